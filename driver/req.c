// SPDX-License-Identifier: GPL-2.0
/*
 * Requests that wait in a direction's queues: the pages they carry and how
 * they complete.
 *
 * A write request carries its message in pages: the writer's own pages,
 * pinned (blocking and asynchronous writers), or kernel pages holding a copy
 * (write-behind).  A read request carries the reader's pinned buffer.  Pages
 * stay valid whatever becomes of the submitter's address space; its memory
 * is never touched through its page tables once the submitting call returns.
 */
#include <linux/aio.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "vchan_priv.h"

struct workqueue_struct *vchan_wq;

static void vchan_cancel_work(struct work_struct *work);

struct vchan_req *vchan_req_alloc(struct vchan_dir *d, enum vchan_req_kind kind,
				  struct kiocb *iocb, size_t len)
{
	struct vchan_req *r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);

	if (!r)
		return NULL;
	r->d = d;
	r->kind = kind;
	r->iocb = iocb;
	r->len = len;
	r->left = len;
	refcount_set(&r->ref, 1);
	init_completion(&r->done);
	INIT_WORK(&r->cancel_work, vchan_cancel_work);
	return r;
}

static void release_pages_of(struct vchan_req *r)
{
	unsigned int i;

	for (i = 0; i < r->nr; i++) {
		if (r->is_read)
			set_page_dirty_lock(r->bv[i].bv_page);
		put_page(r->bv[i].bv_page);
	}
	kvfree(r->bv);
	r->bv = NULL;
	r->nr = 0;
}

void vchan_req_put(struct vchan_req *r)
{
	if (refcount_dec_and_test(&r->ref)) {
		release_pages_of(r);
		kfree(r);
	}
}

/* Take references on the pages under @it: the writer's data or the reader's buffer. */
int vchan_req_pin(struct vchan_req *r, struct iov_iter *it)
{
	int max = iov_iter_npages(it, INT_MAX);
	struct page **pages;
	int ret = 0;

	if (!max)
		return 0;
	r->bv = kvmalloc_array(max, sizeof(*r->bv), GFP_KERNEL_ACCOUNT);
	pages = kvmalloc_array(max, sizeof(*pages), GFP_KERNEL);
	if (!r->bv || !pages) {
		ret = -ENOMEM;
		goto out;
	}
	while (iov_iter_count(it) && r->nr < max) {
		size_t start;
		ssize_t got = iov_iter_get_pages2(it, pages, iov_iter_count(it),
						  max - r->nr, &start);
		int i;

		if (got <= 0) {
			ret = got ? got : -EFAULT;
			break;
		}
		for (i = 0; got; i++) {
			struct bio_vec *bv = &r->bv[r->nr++];

			bv->bv_page = pages[i];
			bv->bv_offset = i ? 0 : start;
			bv->bv_len = min_t(size_t, got, PAGE_SIZE - bv->bv_offset);
			got -= bv->bv_len;
		}
	}
	if (!ret && iov_iter_count(it))
		ret = -EFAULT;
out:
	kvfree(pages);
	if (ret)
		release_pages_of(r);
	if (!ret && r->is_read)
		iov_iter_bvec(&r->iter, ITER_DEST, r->bv, r->nr, r->len);
	return ret;
}

/*
 * Give @r kernel pages holding the rest of its message, taken from @from or,
 * if @from is NULL, from its own pages: the writer may reuse its buffer.
 *
 * From @from (an O_NONBLOCK write, up to VCHAN_MSG_MAX) a failure is
 * reported to the writer as ENOMEM with nothing sent, so the allocation
 * gives up rather than invoke the OOM killer, as the ring's does.  From the
 * request's own pages (a writer interrupted or cancelled, or exiting, once
 * the reader has begun its message) the copy is what frees the writer from
 * waiting for the reader: there it tries as hard as any allocation.
 */
int vchan_req_copy(struct vchan_req *r, struct iov_iter *from)
{
	gfp_t gfp = from ? GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN :
			   GFP_KERNEL_ACCOUNT;
	size_t left = r->left, done = 0;
	unsigned int nr = DIV_ROUND_UP(left, PAGE_SIZE), i;
	struct bio_vec *bv = kvmalloc_array(nr, sizeof(*bv), gfp);
	struct iov_iter dst;
	int ret = -ENOMEM;

	if (!bv && nr)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		bv[i].bv_page = alloc_page(gfp);
		if (!bv[i].bv_page)
			goto free;
		bv[i].bv_offset = 0;
		bv[i].bv_len = min_t(size_t, left - i * PAGE_SIZE, PAGE_SIZE);
	}
	if (from) {
		for (i = 0; i < nr; i++)
			done += copy_page_from_iter(bv[i].bv_page, 0, bv[i].bv_len, from);
	} else {
		iov_iter_bvec(&dst, ITER_DEST, bv, nr, left);
		done = vchan_req_to_iter(r, left, &dst);
		r->left = left;		/* moved, not consumed */
	}
	ret = -EFAULT;
	if (done != left)
		goto free;
	release_pages_of(r);
	r->bv = bv;
	r->nr = nr;
	r->idx = 0;
	r->off = 0;
	return 0;

free:
	while (i--)
		put_page(bv[i].bv_page);
	kvfree(bv);
	return ret;
}

/* Copy @n bytes of a write request's message, from where it stands, to @to. */
size_t vchan_req_to_iter(struct vchan_req *r, size_t n, struct iov_iter *to)
{
	size_t done = 0;

	while (done < n) {
		struct bio_vec *bv = &r->bv[r->idx];
		size_t step = min_t(size_t, n - done, bv->bv_len - r->off);
		size_t got = copy_page_to_iter(bv->bv_page, bv->bv_offset + r->off,
					       step, to);

		done += got;
		r->off += got;
		if (r->off == bv->bv_len) {
			r->idx++;
			r->off = 0;
		}
		if (got != step)
			break;
	}
	r->left -= done;
	return done;
}

/* Hand all that is left of a write request's message to @put, in pieces. */
void vchan_req_to_buf(struct vchan_req *r, void (*put)(void *ctx, const void *src, u32 n),
		      void *ctx)
{
	while (r->left) {
		struct bio_vec *bv = &r->bv[r->idx];
		u32 step = bv->bv_len - r->off;
		void *kaddr = kmap_local_page(bv->bv_page);

		put(ctx, kaddr + bv->bv_offset + r->off, step);
		kunmap_local(kaddr);
		r->left -= step;
		r->idx++;
		r->off = 0;
	}
}

/*
 * Post an asynchronous request's result, under its direction's lock (see
 * "Locking" in vchan_priv.h).  The kiocb may be gone once posted.
 */
void vchan_req_post(struct vchan_req *r)
{
	struct kiocb *iocb = r->iocb;

	r->iocb = NULL;
	iocb->ki_complete(iocb, r->res);
}

/* Wake blocked writers and free requests that left the queues, after unlocking. */
void vchan_req_complete_all(struct list_head *done)
{
	struct vchan_req *r, *tmp;

	list_for_each_entry_safe(r, tmp, done, node) {
		list_del_init(&r->node);
		if (r->kind == VCHAN_REQ_SYNC)
			complete(&r->done);	/* the reference is the waiter's */
		else
			vchan_req_put(r);
	}
}

/*
 * io_cancel() and process exit call this under the aio context lock with
 * interrupts off: nothing here may sleep or complete the request, so the
 * work is deferred.  The request has not completed yet (it would have left
 * the context's list), so its channel is alive: the references taken here
 * keep both alive for the work even if the request completes meanwhile.
 */
static int vchan_aio_cancel(struct kiocb *iocb)
{
	struct vchan_req *r = iocb->private;

	WRITE_ONCE(r->cancelled, true);	/* no longer begun or served */
	refcount_inc(&r->ref);
	get_device(r->d->dev);
	queue_work(vchan_wq, &r->cancel_work);
	return 0;
}

void vchan_req_set_cancel(struct vchan_req *r)
{
	r->iocb->private = r;
	kiocb_set_cancel_fn(r->iocb, vchan_aio_cancel);
}

static void vchan_cancel_work(struct work_struct *work)
{
	struct vchan_req *r = container_of(work, struct vchan_req, cancel_work);

	struct device *dev = r->d->dev;

	vchan_dir_cancel(r->d, r);
	vchan_req_put(r);
	put_device(dev);
}
