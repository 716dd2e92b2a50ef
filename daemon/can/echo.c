/*
 * Frames an interface's shared socket sent and whose echo has not come
 * back yet, each with its sender, so that the echo (flagged MSG_CONFIRM:
 * this socket sent it) can be told as one client's own frame.
 *
 * An echo is matched to the OLDEST unechoed entry of identical content
 * (interface, can_id with its flags, length, FD flags, data), never by
 * position: a controller with several TX buffers may complete frames out
 * of order, and matching by content means it cannot make one sender's
 * frame pass for another's. Two entries of identical content are
 * interchangeable by definition: nothing on the bus can tell them apart,
 * and the oldest is the one the kernel's FIFO queue sent first.
 *
 * An entry whose echo will never come (the frame was flushed with the
 * interface going down, bus-off or a restart, or a driver freed it) would
 * capture the echo of a later identical frame of another sender; the
 * caller purges them on those events, and the table bounds them in number
 * and in age as well.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/can.h>

#include "can/can.h"

/* The kernel's TX queue (txqueuelen) and a driver's buffers hold far less. */
#define ECHO_MAX     1024
#define ECHO_INITIAL 16

void echo_init(struct echo_table *t)
{
	memset(t, 0, sizeof(*t));
}

void echo_free(struct echo_table *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

static void echo_remove(struct echo_table *t, size_t i)
{
	memmove(&t->e[i], &t->e[i + 1], (t->n - i - 1) * sizeof(t->e[0]));
	t->n--;
}

/* The bytes that make two frames the same frame on the bus. */
static int echo_same(const struct echo_entry *e, int ifindex,
		     const struct canfd_frame *cf, int is_fd)
{
	size_t len;

	if (e->ifindex != ifindex || e->is_fd != is_fd ||
	    e->cf.can_id != cf->can_id || e->cf.len != cf->len)
		return 0;
	if (is_fd) {
		if ((e->cf.flags ^ cf->flags) & (CANFD_BRS | CANFD_ESI))
			return 0;
	} else if (e->cf.__res1 != cf->__res1) {
		/* can_frame's len8_dlc: a DLC of 9..15 for 8 bytes. */
		return 0;
	}
	len = (cf->can_id & CAN_RTR_FLAG) ? 0 : cf->len;
	if (len > sizeof(cf->data))
		len = sizeof(cf->data);
	return memcmp(e->cf.data, cf->data, len) == 0;
}

void echo_expire(struct echo_table *t, uint64_t now_ns)
{
	size_t old = 0;

	while (old < t->n && now_ns - t->e[old].sent_ns > ECHO_MAX_AGE_NS)
		old++;
	if (old == 0)
		return;
	memmove(&t->e[0], &t->e[old], (t->n - old) * sizeof(t->e[0]));
	t->n -= old;
	t->expired += old;
}

int echo_add(struct echo_table *t, void *owner, int ifindex,
	     const struct canfd_frame *cf, int is_fd, uint64_t now_ns)
{
	struct echo_entry *e;
	size_t cap;

	echo_expire(t, now_ns);
	if (t->n == ECHO_MAX) {
		/* The oldest has waited longest: the likeliest to be lost. */
		echo_remove(t, 0);
		t->expired++;
	}
	if (t->n == t->cap) {
		cap = t->cap ? t->cap * 2 : ECHO_INITIAL;
		if (cap > ECHO_MAX)
			cap = ECHO_MAX;
		e = realloc(t->e, cap * sizeof(*e));
		if (e == NULL)
			return -ENOMEM;
		t->e = e;
		t->cap = cap;
	}
	e = &t->e[t->n++];
	memset(e, 0, sizeof(*e));
	e->owner = owner;
	e->ifindex = ifindex;
	e->is_fd = (uint8_t)is_fd;
	e->sent_ns = now_ns;
	memcpy(&e->cf, cf, is_fd ? CANFD_MTU : CAN_MTU);
	return 0;
}

int echo_match(struct echo_table *t, int ifindex, const struct canfd_frame *cf,
	       int is_fd, uint64_t now_ns, void **owner)
{
	size_t i;

	echo_expire(t, now_ns);
	for (i = 0; i < t->n; i++) {
		if (!echo_same(&t->e[i], ifindex, cf, is_fd))
			continue;
		*owner = t->e[i].owner;
		echo_remove(t, i);
		return 1;
	}
	*owner = NULL;
	return 0;
}

void echo_purge(struct echo_table *t, int ifindex)
{
	size_t i = 0;

	while (i < t->n) {
		if (ifindex == 0 || t->e[i].ifindex == ifindex) {
			echo_remove(t, i);
			t->purged++;
		} else {
			i++;
		}
	}
}

void echo_forget_owner(struct echo_table *t, const void *owner)
{
	size_t i;

	/* The echo still comes, and is nobody's own now. */
	for (i = 0; i < t->n; i++)
		if (t->e[i].owner == owner)
			t->e[i].owner = NULL;
}
