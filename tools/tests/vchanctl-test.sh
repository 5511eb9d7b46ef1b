#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vchanctl end to end, as root with the module loaded (tools/vm-run does that):
#   tools/vm-run -- tools/tests/vchanctl-test.sh
# Prints TAP; exits non-zero if any check failed.
set -u
cd "$(dirname "$0")/../.."
VCHANCTL=${VCHANCTL:-$PWD/tools/vchanctl}
work=$(mktemp -d -p /dev/shm)	# tmpfs: fifos work there
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
n=0
failed=0

check() {	# check NAME CMD...: one TAP line for CMD's status
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n vchanctl.$name"
	else
		echo "not ok $n vchanctl.$name"
		failed=1
	fi
}

# Wait (bounded) for a condition that a background process brings about.
wait_for() {
	local i
	for ((i = 0; i < 200; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

output_is() {	# output_is EXPECTED CMD...
	local want=$1 got
	shift
	got=$("$@" 2>&1)
	[[ $got == "$want" ]] || { echo "# want: $want"; echo "# got:  $got"; return 1; }
}

status_is() {	# status_is N CMD...: CMD (output dropped) exits with N
	local want=$1 got
	shift
	"$@" >/dev/null 2>&1
	got=$?
	[[ $got == "$want" ]] || { echo "# want exit $want, got $got"; return 1; }
}

first_line_is() {	# first_line_is EXPECTED CMD...: first line of stdout and stderr
	output_is "$1" bash -c '"$@" 2>&1 | head -n 1' - "${@:2}"
}

echo "TAP version 13"
check list_empty output_is "(no channels)" "$VCHANCTL" list
check list_json_empty output_is "[]" "$VCHANCTL" list --json
check bad_usage_exit_2 bash -c "'$VCHANCTL' serve 1 x >/dev/null 2>&1; [[ \$? == 2 ]]"

# --help (the whole tool or one command): usage on stdout, exit 0.
for cmd in "" list top serve listen; do
	check "help${cmd:+_$cmd}" output_is $'usage: vchanctl list [--json]\nexit 0' \
		bash -c '"$@" --help 2>/dev/null | head -n 1; echo "exit ${PIPESTATUS[0]}"' - "$VCHANCTL" $cmd
done
check unknown_command first_line_is "vchanctl: unknown command 'frobnicate'" "$VCHANCTL" frobnicate
check unknown_command_exit_2 status_is 2 "$VCHANCTL" frobnicate
check bad_ring_size_exit_2 first_line_is "vchanctl: bad size '3Q' (bytes, or with K or M)" \
	"$VCHANCTL" serve 1 x --ring 3Q --echo
check two_modes_exit_2 first_line_is "vchanctl: give one of --echo, --sink and --cat" \
	"$VCHANCTL" serve 1 x --echo --sink
check bad_mode_exit_2 status_is 2 "$VCHANCTL" serve 1 x --mode 0999 --echo
check unknown_owner first_line_is "vchanctl: no user 'no-such-user-here'" \
	"$VCHANCTL" serve 1 x --owner no-such-user-here --echo
# The kernel refuses: a clear message and exit 1, nothing created.
bad_create="vchanctl: channel 3/%s: invalid name, ring size, owner or mode (names: 1-7 characters of A-Z a-z 0-9 _ . -; rings: powers of two from 4096 up to the module's max_ring)"
# shellcheck disable=SC2059
check ring_not_power_of_2 output_is "$(printf "$bad_create" x)" "$VCHANCTL" serve 3 x --ring 5000 --echo
check ring_not_power_of_2_exit_1 status_is 1 "$VCHANCTL" serve 3 x --ring 5000 --echo
# shellcheck disable=SC2059
check static_name_too_long output_is "$(printf "$bad_create" eightchr)" "$VCHANCTL" serve 3 eightchr --echo
check nothing_created output_is "(no channels)" "$VCHANCTL" list

# --echo: every message comes back whole.
"$VCHANCTL" serve 7 demo --echo --owner 65534:65534 --mode 0640 2>"$work/echo.err" &
echo_pid=$!
check echo_node_appears wait_for test -c /dev/vchan/7/demo
check node_owner_mode output_is "65534:65534 640" stat -c '%u:%g %a' /dev/vchan/7/demo
head -c 100000 /dev/urandom >"$work/msg"
echo_roundtrip() {
	exec 3<>/dev/vchan/7/demo
	cat "$work/msg" >&3
	head -c 100000 <&3 >"$work/back"
	printf hello >&3
	head -c 5 <&3 >>"$work/back"
	exec 3>&-
	head -c 100000 "$work/back" | cmp -s "$work/msg" - &&
		[[ $(tail -c 5 "$work/back") == hello ]]
}
check echo_roundtrip echo_roundtrip
check list_shows_channel bash -c "'$VCHANCTL' list | grep -Eq '^7 +demo +static +65534:65534 0640 +65536/65536 .*100005B/2m +100005B/2m +0\$'"
check list_json_fields bash -c "'$VCHANCTL' list --json | tr -d ' \n' | grep -q '\"session\":7,\"name\":\"demo\",\"kind\":\"static\",\"shared\":false,\"owner\":\"65534:65534\",\"mode\":\"0640\",\"session_open\":0,\"to_client\":{\"ring_size\":65536,\"queued_bytes\":0,\"queued_msgs\":0,\"total_bytes\":100005,\"total_msgs\":2}'"
check exists_error output_is "vchanctl: channel 7/demo exists" "$VCHANCTL" serve 7 demo --sink
check exists_exit_1 status_is 1 "$VCHANCTL" serve 7 demo --sink
# Without --shared a second opener of the session end gets EBUSY.
check not_shared_busy bash -c "exec 3<>/dev/vchan/7/demo; ! (exec 4<>/dev/vchan/7/demo) 2>/dev/null"
check top_once bash -c "'$VCHANCTL' top --count 1 --interval 0.2 | grep -Eq '^7 +demo '"
kill -INT $echo_pid
check echo_exits wait $echo_pid
check echo_gone_after_exit wait_for test ! -e /dev/vchan/7/demo

# --sink: totals and the FNV-1a 64 checksum of what arrived ("a", "b", "c").
"$VCHANCTL" serve 8 sink --sink >"$work/sink.out" 2>/dev/null &
sink_pid=$!
check sink_node_appears wait_for test -c /dev/vchan/8/sink
sink_write() {
	exec 3>/dev/vchan/8/sink
	printf a >&3 && printf b >&3 && printf c >&3
	exec 3>&-
	wait_for bash -c "'$VCHANCTL' list --json | tr -d ' \n' | grep -q '\"name\":\"sink\".*\"to_client\":{[^}]*\"queued_msgs\":0,\"total_bytes\":3'"
}
check sink_write sink_write
kill -TERM $sink_pid
wait $sink_pid
check sink_totals output_is "messages 3 bytes 3 fnv1a64 e71fa2190541574b" cat "$work/sink.out"

# --ring and --shared: the sizes listed, two session ends open at once.
"$VCHANCTL" serve 11 shr --ring 4K --shared --sink >/dev/null 2>&1 &
shared_pid=$!
check shared_node_appears wait_for test -c /dev/vchan/11/shr
check shared_list bash -c "'$VCHANCTL' list | grep -Eq '^11 +shr +static +0:0 +0600 +4096/4096 +0B/0m +0B/0m +0B/0m +0B/0m +0\$'"
check shared_json bash -c "'$VCHANCTL' list --json | tr -d ' \n' | grep -q '\"name\":\"shr\",\"kind\":\"static\",\"shared\":true,.*\"to_session\":{\"ring_size\":4096,'"
two_openers() {
	exec 3<>/dev/vchan/11/shr 4<>/dev/vchan/11/shr || return 1
	output_is "2" bash -c "'$VCHANCTL' list --json | tr -d ' \n' | sed 's/.*\"name\":\"shr\"[^{]*\"session_open\":\([0-9]*\).*/\1/'"
	local rc=$?
	exec 3>&- 4>&-
	return $rc
}
check shared_two_openers two_openers
kill -TERM $shared_pid
check shared_exits wait $shared_pid

# --cat: stdin becomes messages, messages become stdout.
mkfifo "$work/in"
"$VCHANCTL" serve 9 cat --cat <"$work/in" >"$work/cat.out" 2>/dev/null &
cat_pid=$!
exec 4>"$work/in"
check cat_node_appears wait_for test -c /dev/vchan/9/cat
cat_relay() {
	exec 3<>/dev/vchan/9/cat
	printf 'from-stdin' >&4
	[[ $(head -c 10 <&3) == from-stdin ]] || return 1
	printf 'to-stdout' >&3
	exec 3>&-
	wait_for grep -q '^to-stdout$' "$work/cat.out"
}
check cat_relay cat_relay
exec 4>&-
kill -INT $cat_pid
wait $cat_pid

# listen --echo: dynamic channels, each message back whole in PDUs.
"$VCHANCTL" listen 10 --echo 2>"$work/listen.err" &
listen_pid=$!
check listen_node_appears wait_for test -c /dev/vchan/dynamic/10
check listen_echo output_is "1160 messages echoed whole" tools/tests/dyn-echo-client 10 echo-dvc-sample
check listen_twice_refused output_is "vchanctl: session 10 has a listener already" "$VCHANCTL" listen 10 --echo
check listen_dropped_channel wait_for output_is "(no channels)" "$VCHANCTL" list
kill -INT $listen_pid
check listen_exits wait $listen_pid
check listen_node_gone wait_for test ! -e /dev/vchan/dynamic/10

check nonroot_denied output_is "vchanctl: /dev/vchan/control: permission denied (run as root or as a member of its group)" \
	setpriv --reuid 65534 --regid 65534 --clear-groups "$VCHANCTL" serve 1 x --echo

# Without the module: the message says what to do, exit 1.
unloaded="vchanctl: module not loaded: run sudo modprobe vchan"
if [[ -n ${VCHAN_KO:-} ]] && rmmod vchan 2>/dev/null; then
	check unloaded_list output_is "$unloaded" "$VCHANCTL" list
	check unloaded_list_exit_1 status_is 1 "$VCHANCTL" list
	check unloaded_top output_is "$unloaded" "$VCHANCTL" top --count 1
	check unloaded_serve output_is "$unloaded" "$VCHANCTL" serve 1 x --echo
	check unloaded_listen output_is "$unloaded" "$VCHANCTL" listen 1 --echo
	check reload insmod "$VCHAN_KO"
else
	n=$((n + 1))
	echo "ok $n vchanctl.module_not_loaded # SKIP VCHAN_KO not set or the module is in use"
fi

echo "1..$n"
exit $failed
