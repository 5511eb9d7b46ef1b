#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The body of `make demo`, run as root inside the VM (tools/vm-run) or on a
# host with vchan.ko loaded: an RDP server stand-in (`vchanctl serve 1 demo
# --echo`) creates the channel, and echo_demo streams 64 MiB through it.
set -eu
cd "$(dirname "$0")/../.."
session=1 name=demo

tools/vchanctl serve "$session" "$name" --echo &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT

# The server has created the channel when its node exists: poll for it, for
# at most 10 s, and give up at once if the server died.
for ((i = 0; i < 200; i++)); do
	[[ -c /dev/vchan/$session/$name ]] && break
	kill -0 $server 2>/dev/null || { wait $server; exit 1; }
	sleep 0.05
done
[[ -c /dev/vchan/$session/$name ]] || { echo "demo: the channel did not appear" >&2; exit 1; }

status=0
userlib/examples/echo_demo "$session" "$name" 64 || status=$?
kill -INT $server
wait $server || status=1
trap - EXIT
exit $status
