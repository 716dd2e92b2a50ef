/*
 * The reader: everything the daemon sends goes through here, as bytes in
 * the handle's input buffer. Each complete message (proto/wire.h framing)
 * is unpacked into an arena that is reset per message, so a flood costs
 * no malloc per frame; a reply is matched to the request in flight, an
 * event decoded and queued. libcand_read_feed() is the whole of it for
 * bytes that come from anywhere but the socket.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libcand_int.h"
#include "wire.h"

#define CAND_ALIGN _Alignof(max_align_t)

static void *libcand_read_arena_alloc(void *data, size_t size)
{
	struct cand_arena *a = data;
	struct cand_arena_big *b;
	void *p;

	if (size > SIZE_MAX / 2)
		goto fail;
	size = (size + CAND_ALIGN - 1) & ~(size_t)(CAND_ALIGN - 1);
	if (size <= a->cap - a->used) {
		p = a->buf + a->used;
		a->used += size;
		return p;
	}
	if ((b = malloc(sizeof(*b) + size)) == NULL)
		goto fail;
	b->next = a->big;
	a->big = b;
	a->big_bytes += size;
	return b->mem;
fail:
	a->failed = 1;
	return NULL;
}

static void libcand_read_arena_free(void *data, void *p)
{
	/* Everything goes at once in libcand_read_arena_reset(). */
	(void)data;
	(void)p;
}

static void libcand_read_arena_reset(struct cand_arena *a)
{
	struct cand_arena_big *b;
	unsigned char *buf;
	size_t want;

	while ((b = a->big) != NULL) {
		a->big = b->next;
		free(b);
	}
	/* Size the arena for what the last message needed, within reason. */
	if (a->big_bytes > 0 && a->cap < CAND_ARENA_KEEP) {
		want = a->cap + a->big_bytes;
		if (want > CAND_ARENA_KEEP)
			want = CAND_ARENA_KEEP;
		if ((buf = malloc(want)) != NULL) {
			free(a->buf);
			a->buf = buf;
			a->cap = want;
		}
	}
	a->big_bytes = 0;
	a->used = 0;
	a->failed = 0;
}

/* The input buffer and the arena of a new handle; 0 or CAND_ENOMEM. */
int libcand_read_init(struct cand *h)
{
	h->in = malloc(CAND_INBUF_INIT);
	h->in_cap = CAND_INBUF_INIT;
	h->arena.buf = malloc(CAND_ARENA_INIT);
	h->arena.cap = CAND_ARENA_INIT;
	h->alloc.alloc = libcand_read_arena_alloc;
	h->alloc.free = libcand_read_arena_free;
	h->alloc.allocator_data = &h->arena;
	return h->in == NULL || h->arena.buf == NULL ? CAND_ENOMEM : 0;
}

void libcand_read_free(struct cand *h)
{
	libcand_read_arena_reset(&h->arena);
	free(h->arena.buf);
	free(h->in);
}

/*
 * Room for min more bytes at the end of the input buffer, to read into
 * at h->in + h->in_len. 0, or a negative code when the connection died.
 */
int libcand_read_room(struct cand *h, size_t min)
{
	unsigned char *in;

	if (h->in_off == h->in_len)
		h->in_off = h->in_len = 0;
	if (h->in_cap - h->in_len < min && h->in_off > 0) {
		memmove(h->in, h->in + h->in_off, h->in_len - h->in_off);
		h->in_len -= h->in_off;
		h->in_off = 0;
	}
	if (h->in_cap - h->in_len < min) {
		if ((in = realloc(h->in, h->in_cap * 2)) == NULL)
			return libcand_err_kill(h, CAND_ENOMEM,
						"no memory for the input "
						"buffer");
		h->in = in;
		h->in_cap *= 2;
	}
	return 0;
}

/* What a replay's request set up again, for its refusal. */
static void libcand_read_replay_what(const struct cand_replay_step *st,
				     char *buf, size_t size)
{
	switch (st->op) {
	case CAND__REQUEST__OP_OPEN:
		snprintf(buf, size, "re-opening the channel");
		break;
	case CAND__REQUEST__OP_SET_FILTERS:
		snprintf(buf, size, "setting its filters again");
		break;
	case CAND__REQUEST__OP_SUBSCRIBE:
		snprintf(buf, size, "subscribing again");
		break;
	default:
		snprintf(buf, size, "re-creating %s %u",
			 st->ref != NULL && st->ref->kind == CAND_REF_MONITOR
				 ? "monitor"
				 : "task",
			 st->ref != NULL ? st->ref->id : 0);
	}
}

/*
 * The reply to the next request of a replay. Its first OK reply is where
 * the new connection starts to deliver: the reconnected event goes
 * there, ahead of the new channel's frames. A refusal is the daemon's
 * word on this handle: it dies of it. 0 or a negative code.
 */
static int libcand_read_replayed(struct cand *h, const Cand__Reply *r)
{
	struct cand_replay_step *st = &h->replay[h->replay_next++];
	char what[64];
	int rc = 0;

	if (r->status != CAND__STATUS__OK) {
		libcand_read_replay_what(st, what, sizeof(what));
		return libcand_err_kill(
			h, libcand_err_status((int)r->status),
			"the daemon came back but refused %s: %s", what,
			r->detail != NULL && r->detail[0] ? r->detail
							  : "no reason given");
	}
	if (st->ref != NULL) {
		if (r->result_case != CAND__REPLY__RESULT_CREATED ||
		    r->created == NULL)
			return libcand_err_kill(h, CAND_EPROTO,
						"no id in the reply to a "
						"replayed start");
		st->ref->wire_id = r->created->id;
		st->ref->gen = h->gen;
	}
	if (h->replay_next == 1)
		rc = libcand_event_reconnected(h);
	if (h->replay_next == h->n_replay) {
		/* Set up again: the gap is over. */
		h->n_replay = h->replay_next = 0;
		h->lost_mono_ns = 0;
	}
	return rc;
}

static int libcand_read_reply(struct cand *h, const Cand__Reply *r,
			      struct cand_result *res)
{
	/*
	 * A replay's replies come first: nothing else is sent until it is
	 * done. An id of 0 answers the first request, whatever it was.
	 */
	if (h->replay_next < h->n_replay &&
	    (r->id == h->replay[h->replay_next].id || r->id == 0))
		return libcand_read_replayed(h, r);
	/*
	 * A Reply with id 0 and an error, when EOF follows, is how the
	 * daemon turns a connection away (a limit): not a restart to come
	 * back from. Anything after it means the connection lived on.
	 */
	if (r->id == 0 && r->status != CAND__STATUS__OK) {
		h->refused = libcand_err_status((int)r->status);
		libcand_pb_get_str(h->lost_detail, sizeof(h->lost_detail),
				   r->detail);
	}
	/* Replies come in order: the oldest send ahead is answered first. */
	if (libcand_ahead_reply(h, r))
		return 0;
	/*
	 * Replies to requests that timed out are dropped. An id of 0 is the
	 * daemon's answer to a request it could not decode, which can only be
	 * the one in flight.
	 */
	if (res == NULL || res->done || (r->id != res->want && r->id != 0))
		return 0;
	res->done = 1;
	/* Status N is CAND_E* -N; a negative one would read as success. */
	res->status = libcand_err_status((int)r->status);
	if (r->status != CAND__STATUS__OK)
		libcand_pb_get_str(h->detail, sizeof(h->detail), r->detail);
	if (r->result_case == CAND__REPLY__RESULT_SEND && r->send != NULL) {
		res->has_sent = 1;
		res->sent = r->send->sent;
	}
	if (r->result_case == CAND__REPLY__RESULT_CREATED &&
	    r->created != NULL) {
		res->has_created = 1;
		res->created = r->created->id;
	}
	if (r->status == CAND__STATUS__OK && res->take != NULL)
		res->err = res->take(res, r);
	return 0;
}

/*
 * Takes one complete message out of the input buffer; a reply goes into
 * res (NULL: none is awaited). Returns 1 when one was taken, 0 when none
 * is complete yet, or a negative code when the connection died.
 */
int libcand_read_msg(struct cand *h, struct cand_result *res)
{
	struct libcand_batch batch;
	Cand__ServerMsg *m;
	unsigned char *in;
	size_t avail = h->in_len - h->in_off, need;
	uint32_t len;
	int rc = 0;

	if (avail < CAND_WIRE_HDR)
		return 0;
	len = wire_get_len(h->in + h->in_off);
	if (len == 0 || len > CAND_MAX_MSG)
		return libcand_err_kill(h, CAND_EPROTO,
					"the daemon sent a message of %u bytes "
					"(limit %u)",
					len, CAND_MAX_MSG);
	need = CAND_WIRE_HDR + (size_t)len;
	if (avail < need) {
		/* Make sure the rest can be read in. */
		if (h->in_cap - h->in_off < need) {
			memmove(h->in, h->in + h->in_off, avail);
			h->in_off = 0;
			h->in_len = avail;
		}
		if (h->in_cap < need + CAND_READ_MIN) {
			if ((in = realloc(h->in, need + CAND_READ_MIN)) == NULL)
				return libcand_err_kill(h, CAND_ENOMEM,
							"no memory for a "
							"message of %u bytes",
							len);
			h->in = in;
			h->in_cap = need + CAND_READ_MIN;
		}
		return 0;
	}

	/*
	 * Taken out of the buffer before it is acted on: a kill empties the
	 * buffer, and the same message must not be read again after it. Its
	 * bytes stay where they are until the next read.
	 */
	in = h->in + h->in_off + CAND_WIRE_HDR;
	h->in_off += need;
	if (h->in_off == h->in_len)
		h->in_off = h->in_len = 0;
	/* The frames, which are most of what comes, without protobuf-c. */
	if (libcand_batch_parse(in, len, &batch)) {
		rc = libcand_queue_batch(h, &batch);
		return rc < 0 ? rc : 1;
	}
	m = cand__server_msg__unpack(&h->alloc, len, in);
	if (m == NULL) {
		rc = h->arena.failed
			     ? libcand_err_kill(h, CAND_ENOMEM,
						"no memory to decode a message")
			     : libcand_err_kill(h, CAND_EPROTO,
						"the daemon sent a message "
						"that does not decode");
		libcand_read_arena_reset(&h->arena);
		return rc;
	}
	if (m->msg_case != CAND__SERVER_MSG__MSG_REPLY || m->reply->id != 0)
		h->refused = 0;
	switch (m->msg_case) {
	case CAND__SERVER_MSG__MSG_REPLY:
		rc = libcand_read_reply(h, m->reply, res);
		break;
	case CAND__SERVER_MSG__MSG_EVENT:
		rc = libcand_event_take(h, m->event);
		break;
	default:
		break; /* from a newer daemon */
	}
	libcand_read_arena_reset(&h->arena);
	return rc < 0 ? rc : 1;
}

/* Takes every complete message out of the input buffer. */
int libcand_read_all(struct cand *h, struct cand_result *res)
{
	int rc;

	while ((rc = libcand_read_msg(h, res)) > 0)
		;
	return rc;
}

/*
 * Bytes from the daemon that did not come through the socket: appended
 * and read as recv() would have delivered them, in chunks. Returns 0, or
 * a negative code when they killed the connection.
 */
int libcand_read_feed(struct cand *h, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t n;
	int rc;

	while (len > 0) {
		if (h->dead)
			return h->dead;
		if ((rc = libcand_read_room(h, CAND_READ_MIN)) < 0)
			return rc;
		n = h->in_cap - h->in_len;
		if (n > len)
			n = len;
		memcpy(h->in + h->in_len, p, n);
		h->in_len += n;
		p += n;
		len -= n;
		if ((rc = libcand_read_all(h, NULL)) < 0)
			return rc;
	}
	return 0;
}
