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

/*
 * A request may carry thousands of frames, and a vcan echoes each at once,
 * before the loop reads any: the table holds what the tap's receive
 * buffer can (about 5,000 echoes in 4 MiB), with room to spare. It is a
 * ring because echoes come back oldest first: matching the head costs
 * nothing, and one out of order leaves a hole until the head reaches it.
 */
#define ECHO_MAX     16384
#define ECHO_INITIAL 16
/* A table this big is given back once it is empty. */
#define ECHO_KEEP 1024

void echo_init(struct echo_table *t)
{
	memset(t, 0, sizeof(*t));
}

void echo_free(struct echo_table *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

/* Entry i, counted from the oldest. */
static struct echo_entry *echo_at(const struct echo_table *t, size_t i)
{
	return &t->e[(t->head + i) & (t->cap - 1)];
}

/* The oldest goes; holes at the head after it go with it. */
static void echo_pop(struct echo_table *t)
{
	do {
		t->head = (t->head + 1) & (t->cap - 1);
		t->n--;
	} while (t->n > 0 && echo_at(t, 0)->gone);
	if (t->n == 0 && t->cap > ECHO_KEEP) {
		free(t->e);
		t->e = NULL;
		t->cap = t->head = 0;
	}
}

static void echo_remove(struct echo_table *t, size_t i)
{
	echo_at(t, i)->gone = 1;
	if (i == 0)
		echo_pop(t);
}

/* Twice the room, the entries in order from index 0. */
static int echo_grow(struct echo_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : ECHO_INITIAL, i;
	struct echo_entry *e = malloc(cap * sizeof(*e));

	if (e == NULL)
		return -ENOMEM;
	for (i = 0; i < t->n; i++)
		e[i] = *echo_at(t, i);
	free(t->e);
	t->e = e;
	t->cap = cap;
	t->head = 0;
	return 0;
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
	while (t->n > 0 && now_ns - echo_at(t, 0)->sent_ns > ECHO_MAX_AGE_NS) {
		t->expired++;
		echo_pop(t);
	}
}

int echo_add(struct echo_table *t, void *owner, int ifindex,
	     const struct canfd_frame *cf, int is_fd, uint64_t now_ns)
{
	struct echo_entry *e;

	echo_expire(t, now_ns);
	if (t->n == ECHO_MAX) {
		/* The oldest has waited longest: the likeliest to be lost. */
		t->expired++;
		echo_pop(t);
	}
	if (t->n == t->cap && echo_grow(t) < 0)
		return -ENOMEM;
	e = echo_at(t, t->n++);
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
	struct echo_entry *e;
	size_t i;

	echo_expire(t, now_ns);
	for (i = 0; i < t->n; i++) {
		e = echo_at(t, i);
		if (e->gone || !echo_same(e, ifindex, cf, is_fd))
			continue;
		*owner = e->owner;
		echo_remove(t, i);
		return 1;
	}
	*owner = NULL;
	return 0;
}

void echo_purge(struct echo_table *t, int ifindex)
{
	struct echo_entry *e;
	size_t i;

	for (i = 0; i < t->n; i++) {
		e = echo_at(t, i);
		if (!e->gone && (ifindex == 0 || e->ifindex == ifindex)) {
			e->gone = 1;
			t->purged++;
		}
	}
	if (t->n > 0 && echo_at(t, 0)->gone)
		echo_pop(t);
}

void echo_forget_owner(struct echo_table *t, const void *owner)
{
	size_t i;

	/* The echo still comes, and is nobody's own now. */
	for (i = 0; i < t->n; i++)
		if (echo_at(t, i)->owner == owner)
			echo_at(t, i)->owner = NULL;
}
