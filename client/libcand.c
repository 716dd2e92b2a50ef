/*
 * libcand: one non-blocking Unix socket per handle, speaking the framing of
 * proto/wire.h.
 *
 * Only one request is ever in flight. Events that arrive while a reply is
 * awaited are queued, so the receive path sees every frame in order. The
 * receive path reads in large chunks and unpacks each FrameBatch into an
 * arena that is reset per message, so a flood costs no malloc per frame
 * and one syscall per chunk rather than per frame.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cand.h"
#include "cand.pb-c.h"
#include "wire.h"

/* The .so is built with -fvisibility=hidden; this is the public API. */
#define CAND_EXPORT __attribute__((visibility("default")))

#define CAND_INBUF_INIT (256 * 1024)
/* Never offer recv() less room than this: one syscall per many frames. */
#define CAND_READ_MIN	(64 * 1024)
#define CAND_ARENA_INIT (256 * 1024)
/* The arena grows to fit the largest message seen, up to this. */
#define CAND_ARENA_KEEP (16 * 1024 * 1024)
#define CAND_QUEUE_INIT 256
#define CAND_DETAIL_MAX 512
/* Frames per SendRequest: ~430 KiB at worst, well under CAND_MAX_MSG. */
#define CAND_SEND_CHUNK 4096
/* How much longer than its own work a request may take to be answered. */
#define CAND_RPC_GRACE_MS 30000
#define CAND_ALIGN	  _Alignof(max_align_t)

/* Memory for one unpacked message; everything is dropped at once. */
struct cand_arena_big {
	struct cand_arena_big *next;
	max_align_t mem[];
};

struct cand_arena {
	unsigned char *buf;
	size_t cap;
	size_t used;
	struct cand_arena_big *big; /* what did not fit in buf */
	size_t big_bytes;
	int failed;
};

/* A link event, held back until the frames queued before it are read. */
struct cand_link {
	uint64_t at; /* frames queued before it */
	int err;
	char *detail;
};

/* What the awaited reply said. */
struct cand_result {
	uint32_t want;
	int done;
	int status;
	int has_sent;
	uint32_t sent;
	struct cand_iface *ifaces;
	size_t n_ifaces;
	int err; /* a local failure while taking the reply apart */
};

struct cand {
	int fd;
	uint32_t last_id;

	/* Once set, every call fails with it (after queued frames). */
	int dead;
	int dead_reported;
	char dead_detail[CAND_DETAIL_MAX];

	unsigned char *in;
	size_t in_cap;
	size_t in_off; /* first unconsumed byte */
	size_t in_len; /* end of the data */

	struct cand_arena arena;
	ProtobufCAllocator alloc;

	struct cand_frame *q;
	size_t q_cap;
	size_t q_head;
	size_t q_tail;
	uint64_t q_in;	/* frames ever queued */
	uint64_t q_out; /* frames ever handed out */

	struct cand_link *links;
	size_t n_links;
	size_t links_cap;

	uint64_t kernel_drops;

	unsigned char *out;
	size_t out_cap;
	Cand__Frame *tx;
	Cand__Frame **txp;
	size_t tx_cap;

	char detail[CAND_DETAIL_MAX];
};

static int64_t cand_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cand_vdetail(char *buf, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void cand_vdetail(char *buf, const char *fmt, va_list ap)
{
	vsnprintf(buf, CAND_DETAIL_MAX, fmt, ap);
}

/* Records why a call failed and returns err; errno survives for ESYS. */
static int cand_fail(struct cand *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cand_fail(struct cand *h, int err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	cand_vdetail(h->detail, fmt, ap);
	va_end(ap);
	errno = saved;
	return err;
}

/* The connection can no longer be trusted: fail everything from now on. */
static int cand_kill(struct cand *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cand_kill(struct cand *h, int err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (h->dead == 0) {
		va_start(ap, fmt);
		cand_vdetail(h->dead_detail, fmt, ap);
		va_end(ap);
		h->dead = err;
	}
	/* After EOF the buffered messages are still good; after junk not. */
	if (err != CAND_EDISCONNECTED)
		h->in_off = h->in_len = 0;
	memcpy(h->detail, h->dead_detail, sizeof(h->detail));
	errno = saved;
	return h->dead;
}

static int cand_dead(struct cand *h)
{
	memcpy(h->detail, h->dead_detail, sizeof(h->detail));
	h->dead_reported = 1;
	return h->dead;
}

static void *cand_arena_alloc(void *data, size_t size)
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

static void cand_arena_free(void *data, void *p)
{
	/* Everything goes at once in cand_arena_reset(). */
	(void)data;
	(void)p;
}

static void cand_arena_reset(struct cand_arena *a)
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

/* Makes room for n more frames at the queue's tail. */
static int cand_queue_reserve(struct cand *h, size_t n)
{
	struct cand_frame *q;
	size_t queued = h->q_tail - h->q_head, cap;

	if (h->q_cap - h->q_tail >= n)
		return 0;
	if (h->q_head > 0) {
		memmove(h->q, h->q + h->q_head, queued * sizeof(*h->q));
		h->q_head = 0;
		h->q_tail = queued;
		if (h->q_cap - h->q_tail >= n)
			return 0;
	}
	cap = h->q_cap ? h->q_cap : CAND_QUEUE_INIT;
	while (cap - queued < n) {
		if (cap > SIZE_MAX / 2 / sizeof(*q))
			return CAND_ENOMEM;
		cap *= 2;
	}
	if ((q = realloc(h->q, cap * sizeof(*q))) == NULL)
		return CAND_ENOMEM;
	h->q = q;
	h->q_cap = cap;
	return 0;
}

static void cand_frame_from_pb(struct cand_frame *f, const Cand__Frame *p)
{
	size_t n, max;

	f->id = p->id;
	f->flags = (p->extended ? CAND_FRAME_EXTENDED : 0) |
		   (p->remote ? CAND_FRAME_REMOTE : 0) |
		   (p->error ? CAND_FRAME_ERROR : 0) |
		   (p->fd ? CAND_FRAME_FD : 0) | (p->brs ? CAND_FRAME_BRS : 0) |
		   (p->esi ? CAND_FRAME_ESI : 0) |
		   (p->own ? CAND_FRAME_OWN : 0);
	max = p->fd ? CAND_MAX_DLEN : 8;
	if (p->remote) {
		f->len = (uint8_t)(p->dlc > max ? max : p->dlc);
		n = 0;
	} else {
		n = p->data.len > max ? max : p->data.len;
		f->len = (uint8_t)n;
		if (n > 0)
			memcpy(f->data, p->data.data, n);
	}
	memset(f->data + n, 0, sizeof(f->data) - n);

	n = p->ifname != NULL ? strnlen(p->ifname, sizeof(f->ifname) - 1) : 0;
	if (n > 0)
		memcpy(f->ifname, p->ifname, n);
	memset(f->ifname + n, 0, sizeof(f->ifname) - n);
	f->timestamp_ns = p->timestamp_ns;
}

static int cand_queue_batch(struct cand *h, const Cand__FrameBatch *b)
{
	size_t i;

	h->kernel_drops = b->kernel_drops;
	if (b->n_frames == 0)
		return 0;
	if (cand_queue_reserve(h, b->n_frames) < 0)
		return cand_kill(h, CAND_ENOMEM, "no memory for %zu frames",
				 b->n_frames);
	for (i = 0; i < b->n_frames; i++)
		cand_frame_from_pb(&h->q[h->q_tail++], b->frames[i]);
	h->q_in += b->n_frames;
	return 0;
}

/* An error cand_recv reports once, after the frames queued before it. */
static int cand_queue_err(struct cand *h, int err, const char *detail)
{
	struct cand_link *l;

	if (h->n_links == h->links_cap) {
		size_t cap = h->links_cap ? h->links_cap * 2 : 4;

		if ((l = realloc(h->links, cap * sizeof(*l))) == NULL)
			return cand_kill(h, CAND_ENOMEM,
					 "no memory for an event");
		h->links = l;
		h->links_cap = cap;
	}
	l = &h->links[h->n_links];
	if ((l->detail = strdup(detail)) == NULL)
		return cand_kill(h, CAND_ENOMEM, "no memory for an event");
	l->at = h->q_in;
	l->err = err;
	h->n_links++;
	return 0;
}

static int cand_queue_link(struct cand *h, const Cand__LinkEvent *le)
{
	const char *what;
	char buf[CAND_DETAIL_MAX];
	int err;

	if (le->status != CAND__STATUS__OK)
		err = (int)le->status > 0 ? -(int)le->status : CAND_EPROTO;
	else if (le->removed)
		err = CAND_ENODEV;
	else if (!le->up)
		err = CAND_ENETDOWN;
	else
		return 0; /* back up: the caller simply receives again */

	if (err == CAND_ENODEV)
		what = "is gone";
	else if (err == CAND_ENETDOWN)
		what = "is down";
	else
		what = cand_strerror(err);
	if (le->detail != NULL && le->detail[0] != '\0')
		snprintf(buf, sizeof(buf), "%s", le->detail);
	else
		snprintf(buf, sizeof(buf), "%s: interface %s",
			 le->ifname != NULL ? le->ifname : "?", what);
	return cand_queue_err(h, err, buf);
}

/*
 * A reload took rights away. Receiving is what cand_recv is about, so it
 * reports CAND_EPERM once when "read" went; a lost "send" shows at the
 * next send.
 */
static int cand_queue_rights(struct cand *h, const Cand__RightsEvent *re)
{
	size_t i;

	for (i = 0; i < re->n_revoked; i++)
		if (re->revoked[i] != NULL &&
		    strcmp(re->revoked[i], "read") == 0)
			return cand_queue_err(h, CAND_EPERM,
					      re->detail != NULL &&
							      re->detail[0]
						      ? re->detail
						      : "the read right was "
							"revoked");
	return 0;
}

static void cand_copy_str(char *dst, size_t size, const char *src)
{
	size_t n = src != NULL ? strnlen(src, size - 1) : 0;

	if (n > 0)
		memcpy(dst, src, n);
	memset(dst + n, 0, size - n);
}

static int cand_take_list(struct cand_result *res, const Cand__ListReply *l)
{
	struct cand_iface *v;
	size_t i, n = l != NULL ? l->n_interfaces : 0;

	/* Never NULL on success, so callers may test the pointer. */
	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL)
		return CAND_ENOMEM;
	for (i = 0; i < n; i++) {
		const Cand__Interface *p = l->interfaces[i];

		cand_copy_str(v[i].name, sizeof(v[i].name), p->name);
		v[i].ifindex = p->ifindex;
		v[i].up = p->up ? 1 : 0;
		v[i].mtu = p->mtu;
		v[i].hardware = p->type == CAND__IFACE_TYPE__HARDWARE;
		cand_copy_str(v[i].kind, sizeof(v[i].kind), p->kind);
	}
	res->ifaces = v;
	res->n_ifaces = n;
	return 0;
}

static void cand_take_reply(struct cand *h, const Cand__Reply *r,
			    struct cand_result *res)
{
	/*
	 * Replies to requests that timed out are dropped. An id of 0 is the
	 * daemon's answer to a request it could not decode, which can only be
	 * the one in flight.
	 */
	if (res == NULL || res->done || (r->id != res->want && r->id != 0))
		return;
	res->done = 1;
	/* Status N is CAND_E* -N; a negative one would read as success. */
	res->status = (int)r->status >= 0 ? -(int)r->status : CAND_EPROTO;
	if (r->status != CAND__STATUS__OK)
		cand_copy_str(h->detail, sizeof(h->detail), r->detail);
	if (r->result_case == CAND__REPLY__RESULT_SEND && r->send != NULL) {
		res->has_sent = 1;
		res->sent = r->send->sent;
	}
	if (r->status == CAND__STATUS__OK &&
	    r->result_case == CAND__REPLY__RESULT_LIST)
		res->err = cand_take_list(res, r->list);
}

static int cand_take_event(struct cand *h, const Cand__Event *ev)
{
	switch (ev->ev_case) {
	case CAND__EVENT__EV_FRAMES:
		return cand_queue_batch(h, ev->frames);
	case CAND__EVENT__EV_LINK:
		return cand_queue_link(h, ev->link);
	case CAND__EVENT__EV_RIGHTS:
		return cand_queue_rights(h, ev->rights);
	case CAND__EVENT__EV_SHUTDOWN:
		/* The last message: every call from now on says so. */
		if (h->dead == CAND_EDISCONNECTED)
			h->dead = 0; /* the EOF read ahead is its consequence */
		return cand_kill(h, CAND_ESHUTDOWN, "%s",
				 ev->shutdown->detail != NULL &&
						 ev->shutdown->detail[0]
					 ? ev->shutdown->detail
					 : "the daemon is shutting down");
	default:
		return 0; /* from a newer daemon; nothing to do with it */
	}
}

/*
 * Takes one complete message out of the input buffer. Returns 1 when one
 * was taken, 0 when none is complete yet, or a negative code when the
 * connection died.
 */
static int cand_take_msg(struct cand *h, struct cand_result *res)
{
	Cand__ServerMsg *m;
	unsigned char *in;
	size_t avail = h->in_len - h->in_off, need;
	uint32_t len;
	int rc = 0;

	if (avail < CAND_WIRE_HDR)
		return 0;
	len = wire_get_len(h->in + h->in_off);
	if (len == 0 || len > CAND_MAX_MSG)
		return cand_kill(h, CAND_EPROTO,
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
				return cand_kill(h, CAND_ENOMEM,
						 "no memory for a message of "
						 "%u bytes",
						 len);
			h->in = in;
			h->in_cap = need + CAND_READ_MIN;
		}
		return 0;
	}

	m = cand__server_msg__unpack(&h->alloc, len,
				     h->in + h->in_off + CAND_WIRE_HDR);
	h->in_off += need;
	if (h->in_off == h->in_len)
		h->in_off = h->in_len = 0;
	if (m == NULL) {
		rc = h->arena.failed
			     ? cand_kill(h, CAND_ENOMEM,
					 "no memory to decode a message")
			     : cand_kill(h, CAND_EPROTO,
					 "the daemon sent a message that does "
					 "not decode");
		cand_arena_reset(&h->arena);
		return rc;
	}
	switch (m->msg_case) {
	case CAND__SERVER_MSG__MSG_REPLY:
		cand_take_reply(h, m->reply, res);
		break;
	case CAND__SERVER_MSG__MSG_EVENT:
		rc = cand_take_event(h, m->event);
		break;
	default:
		break; /* from a newer daemon */
	}
	cand_arena_reset(&h->arena);
	return rc < 0 ? rc : 1;
}

/*
 * Reads what the socket has. Returns 1 when something came, 0 when nothing
 * is there, or a negative code when the connection died.
 */
static int cand_fill(struct cand *h)
{
	unsigned char *in;
	ssize_t n;

	if (h->dead)
		return h->dead;
	if (h->in_off == h->in_len)
		h->in_off = h->in_len = 0;
	if (h->in_cap - h->in_len < CAND_READ_MIN && h->in_off > 0) {
		memmove(h->in, h->in + h->in_off, h->in_len - h->in_off);
		h->in_len -= h->in_off;
		h->in_off = 0;
	}
	if (h->in_cap - h->in_len < CAND_READ_MIN) {
		if ((in = realloc(h->in, h->in_cap * 2)) == NULL)
			return cand_kill(h, CAND_ENOMEM,
					 "no memory for the input buffer");
		h->in = in;
		h->in_cap *= 2;
	}
	for (;;) {
		n = recv(h->fd, h->in + h->in_len, h->in_cap - h->in_len, 0);
		if (n > 0) {
			h->in_len += (size_t)n;
			return 1;
		}
		if (n == 0)
			return cand_kill(h, CAND_EDISCONNECTED,
					 "the daemon closed the connection");
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == ECONNRESET)
			return cand_kill(h, CAND_EDISCONNECTED,
					 "the daemon reset the connection");
		return cand_kill(h, CAND_ESYS, "recv: %s", strerror(errno));
	}
}

/*
 * Waits for the socket until deadline (CLOCK_MONOTONIC ms, < 0 for never).
 * Returns 0 on timeout, else nonzero; a signal counts as a wakeup, the
 * caller tries again and waits anew.
 */
static int cand_wait(struct cand *h, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = h->fd, .events = events};
	int64_t left = -1;
	int n;

	if (deadline >= 0) {
		left = deadline - cand_now_ms();
		if (left <= 0)
			return 0;
		if (left > INT_MAX)
			left = INT_MAX;
	}
	n = poll(&pfd, 1, (int)left);
	if (n < 0)
		return 1;
	if (n == 0)
		return deadline >= 0 && cand_now_ms() < deadline ? 1 : 0;
	return pfd.revents ? pfd.revents : 1;
}

/* Takes every complete message out of the input buffer. */
static int cand_take_all(struct cand *h, struct cand_result *res)
{
	int rc;

	while ((rc = cand_take_msg(h, res)) > 0)
		;
	return rc;
}

static int cand_write(struct cand *h, const unsigned char *p, size_t len,
		      struct cand_result *res, int64_t deadline)
{
	ssize_t n;
	int rc;

	while (len > 0) {
		n = send(h->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/*
			 * Keep reading while the daemon is not: it may be
			 * blocked on writing events to us.
			 */
			rc = cand_wait(h, POLLOUT | POLLIN, deadline);
			if (rc == 0)
				return cand_kill(h, CAND_ETIMEOUT,
						 "the daemon did not take a "
						 "request in time");
			if (rc & (POLLIN | POLLHUP | POLLERR)) {
				if ((rc = cand_fill(h)) < 0)
					return rc;
				if ((rc = cand_take_all(h, res)) < 0)
					return rc;
			}
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			/*
			 * The daemon may have said why before it closed (a
			 * limit, shutting down): that answers the request.
			 */
			while (cand_fill(h) > 0)
				;
			cand_take_all(h, res);
			if (res != NULL && res->done)
				return 0;
			if (h->dead)
				return cand_dead(h);
			return cand_kill(h, CAND_EDISCONNECTED,
					 "the daemon closed the connection");
		}
		return cand_kill(h, CAND_ESYS, "send: %s", strerror(errno));
	}
	return 0;
}

/* Sends req and waits for its reply until deadline (< 0: never). */
static int cand_rpc(struct cand *h, Cand__Request *req, struct cand_result *res,
		    int64_t deadline)
{
	unsigned char *out;
	size_t len;
	int rc;

	memset(res, 0, sizeof(*res));
	if (h->dead)
		return cand_dead(h);
	if (++h->last_id == 0)
		h->last_id = 1;
	req->id = res->want = h->last_id;

	len = cand__request__get_packed_size(req);
	if (len > CAND_MAX_MSG)
		return cand_fail(h, CAND_EINVAL,
				 "request of %zu bytes is over the %u byte "
				 "limit",
				 len, CAND_MAX_MSG);
	if (h->out_cap < CAND_WIRE_HDR + len) {
		if ((out = realloc(h->out, CAND_WIRE_HDR + len)) == NULL)
			return cand_fail(h, CAND_ENOMEM,
					 "no memory for a request");
		h->out = out;
		h->out_cap = CAND_WIRE_HDR + len;
	}
	wire_put_len(h->out, (uint32_t)len);
	cand__request__pack(req, h->out + CAND_WIRE_HDR);
	if ((rc = cand_write(h, h->out, CAND_WIRE_HDR + len, res, deadline)) <
	    0)
		return rc;

	while (!res->done) {
		if ((rc = cand_take_msg(h, res)) < 0)
			return rc;
		if (rc > 0)
			continue;
		if (h->dead)
			return cand_dead(h);
		if ((rc = cand_fill(h)) != 0)
			continue;
		if (cand_wait(h, POLLIN, deadline) == 0)
			return cand_fail(h, CAND_ETIMEOUT,
					 "no reply from the daemon in time");
	}
	if (res->err < 0)
		return cand_fail(h, res->err, "no memory for the reply");
	return res->status;
}

CAND_EXPORT void cand_options_init(struct cand_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->channel = "";
	opts->local_loopback = 1;
}

CAND_EXPORT int cand_connect(cand_t **out, const char *path)
{
	struct sockaddr_un sa;
	struct cand *h;
	const char *env;
	int fd, flags, saved;

	if (out == NULL)
		return CAND_EINVAL;
	*out = NULL;
	if (path == NULL) {
		env = getenv("CAND_SOCKET");
		path = env != NULL && env[0] != '\0' ? env
						     : CAND_DEFAULT_SOCKET;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
		errno = path[0] == '\0' ? EINVAL : ENAMETOOLONG;
		return CAND_ECONNECT;
	}
	memcpy(sa.sun_path, path, strlen(path));

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return CAND_ENOMEM;
	h->fd = -1;
	h->in = malloc(CAND_INBUF_INIT);
	h->in_cap = CAND_INBUF_INIT;
	h->arena.buf = malloc(CAND_ARENA_INIT);
	h->arena.cap = CAND_ARENA_INIT;
	if (h->in == NULL || h->arena.buf == NULL) {
		cand_close(h);
		return CAND_ENOMEM;
	}
	h->alloc.alloc = cand_arena_alloc;
	h->alloc.free = cand_arena_free;
	h->alloc.allocator_data = &h->arena;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		saved = errno;
		cand_close(h);
		errno = saved;
		return CAND_ESYS;
	}
	h->fd = fd;
	/* Connect blocking: a Unix connect either works at once or not. */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EISCONN)
			break;
		saved = errno;
		cand_close(h);
		errno = saved;
		return CAND_ECONNECT;
	}
	if ((flags = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		saved = errno;
		cand_close(h);
		errno = saved;
		return CAND_ESYS;
	}
	*out = h;
	return CAND_OK;
}

CAND_EXPORT void cand_close(cand_t *h)
{
	size_t i;

	if (h == NULL)
		return;
	if (h->fd >= 0)
		close(h->fd);
	cand_arena_reset(&h->arena);
	free(h->arena.buf);
	free(h->in);
	free(h->q);
	for (i = 0; i < h->n_links; i++)
		free(h->links[i].detail);
	free(h->links);
	free(h->out);
	free(h->tx);
	free(h->txp);
	free(h);
}

static int cand_filters_to_pb(struct cand *h, const struct cand_filter *src,
			      size_t n, Cand__Filter **pf, Cand__Filter ***pp)
{
	Cand__Filter *f;
	Cand__Filter **p;
	size_t i;

	*pf = NULL;
	*pp = NULL;
	if (n == 0)
		return 0;
	if (src == NULL)
		return cand_fail(h, CAND_EINVAL, "%zu filters but no array", n);
	for (i = 0; i < n; i++) {
		if (src[i].kind != CAND_FILTER_ANY &&
		    src[i].kind != CAND_FILTER_STANDARD &&
		    src[i].kind != CAND_FILTER_EXTENDED)
			return cand_fail(h, CAND_EINVAL,
					 "filter %zu has an unknown kind %d", i,
					 (int)src[i].kind);
	}
	f = calloc(n, sizeof(*f));
	p = calloc(n, sizeof(*p));
	if (f == NULL || p == NULL) {
		free(f);
		free(p);
		return cand_fail(h, CAND_ENOMEM, "no memory for %zu filters",
				 n);
	}
	for (i = 0; i < n; i++) {
		cand__filter__init(&f[i]);
		f[i].id = src[i].id;
		f[i].mask = src[i].mask;
		f[i].kind = (Cand__FilterKind)src[i].kind;
		f[i].invert = src[i].invert ? 1 : 0;
		p[i] = &f[i];
	}
	*pf = f;
	*pp = p;
	return 0;
}

CAND_EXPORT int cand_open(cand_t *h, const struct cand_options *opts)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__OpenRequest open = CAND__OPEN_REQUEST__INIT;
	struct cand_options defaults;
	struct cand_result res;
	Cand__Filter *f, **fp;
	int rc;

	if (h == NULL)
		return CAND_EINVAL;
	if (opts == NULL) {
		cand_options_init(&defaults);
		opts = &defaults;
	}
	if ((rc = cand_filters_to_pb(h, opts->filters, opts->n_filters, &f,
				     &fp)) < 0)
		return rc;
	open.channel = (char *)(opts->channel != NULL ? opts->channel : "");
	open.receive_own_messages = opts->receive_own_messages ? 1 : 0;
	open.no_local_loopback = opts->local_loopback ? 0 : 1;
	open.fd = opts->fd ? 1 : 0;
	open.ignore_rx_error_frames = opts->ignore_rx_error_frames ? 1 : 0;
	open.n_filters = opts->n_filters;
	open.filters = fp;
	req.op_case = CAND__REQUEST__OP_OPEN;
	req.open = &open;

	rc = cand_rpc(h, &req, &res, cand_now_ms() + CAND_RPC_GRACE_MS);
	free(fp);
	free(f);
	return rc;
}

CAND_EXPORT int cand_set_filters(cand_t *h, const struct cand_filter *filters,
				 size_t n)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__SetFiltersRequest sf = CAND__SET_FILTERS_REQUEST__INIT;
	struct cand_result res;
	Cand__Filter *f, **fp;
	int rc;

	if (h == NULL)
		return CAND_EINVAL;
	if ((rc = cand_filters_to_pb(h, filters, n, &f, &fp)) < 0)
		return rc;
	sf.n_filters = n;
	sf.filters = fp;
	req.op_case = CAND__REQUEST__OP_SET_FILTERS;
	req.set_filters = &sf;

	rc = cand_rpc(h, &req, &res, cand_now_ms() + CAND_RPC_GRACE_MS);
	free(fp);
	free(f);
	return rc;
}

CAND_EXPORT int cand_list(cand_t *h, struct cand_iface **out)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__ListRequest list = CAND__LIST_REQUEST__INIT;
	struct cand_result res;
	int rc;

	if (h == NULL || out == NULL)
		return CAND_EINVAL;
	*out = NULL;
	req.op_case = CAND__REQUEST__OP_LIST;
	req.list = &list;
	rc = cand_rpc(h, &req, &res, cand_now_ms() + CAND_RPC_GRACE_MS);
	if (rc < 0) {
		free(res.ifaces);
		return rc;
	}
	/* An OK reply without a list can only mean an empty one. */
	if (res.ifaces == NULL &&
	    (res.ifaces = calloc(1, sizeof(*res.ifaces))) == NULL)
		return cand_fail(h, CAND_ENOMEM, "no memory for the list");
	if (res.n_ifaces > INT_MAX) {
		free(res.ifaces);
		return cand_fail(h, CAND_EPROTO, "absurdly many interfaces");
	}
	*out = res.ifaces;
	return (int)res.n_ifaces;
}

/* Checks frames before anything is sent, so a bad one sends nothing. */
static int cand_check_frames(struct cand *h, const struct cand_frame *frames,
			     size_t n)
{
	const struct cand_frame *f;
	size_t i;

	for (i = 0; i < n; i++) {
		f = &frames[i];
		if (f->len > CAND_MAX_DLEN)
			return cand_fail(h, CAND_EINVAL,
					 "frame %zu: length %u is over 64", i,
					 f->len);
		if (!(f->flags & CAND_FRAME_FD) && f->len > 8)
			return cand_fail(h, CAND_EINVAL,
					 "frame %zu: length %u is over 8 for a "
					 "classic frame",
					 i, f->len);
		if (strnlen(f->ifname, sizeof(f->ifname)) == sizeof(f->ifname))
			return cand_fail(h, CAND_EINVAL,
					 "frame %zu: ifname is not terminated",
					 i);
	}
	return 0;
}

static void cand_frame_to_pb(Cand__Frame *p, const struct cand_frame *f)
{
	cand__frame__init(p);
	p->id = f->id;
	p->extended = (f->flags & CAND_FRAME_EXTENDED) ? 1 : 0;
	p->remote = (f->flags & CAND_FRAME_REMOTE) ? 1 : 0;
	p->error = (f->flags & CAND_FRAME_ERROR) ? 1 : 0;
	p->fd = (f->flags & CAND_FRAME_FD) ? 1 : 0;
	p->brs = (f->flags & CAND_FRAME_BRS) ? 1 : 0;
	p->esi = (f->flags & CAND_FRAME_ESI) ? 1 : 0;
	p->dlc = f->len;
	if (!p->remote && f->len > 0) {
		/* pack() only reads through these pointers. */
		p->data.len = f->len;
		p->data.data = (uint8_t *)f->data;
	}
	if (f->ifname[0] != '\0')
		p->ifname = (char *)f->ifname;
}

CAND_EXPORT int cand_send(cand_t *h, const struct cand_frame *frames, size_t n,
			  int timeout_ms)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__SendRequest sr = CAND__SEND_REQUEST__INIT;
	struct cand_result res;
	size_t off, cnt, i, total = 0, want;
	int64_t deadline, left;
	int rc;

	if (h == NULL || (frames == NULL && n > 0))
		return CAND_EINVAL;
	if (timeout_ms < 0)
		return cand_fail(h, CAND_EINVAL, "negative send timeout");
	if (n > INT_MAX)
		return cand_fail(h, CAND_EINVAL, "too many frames at once");
	if ((rc = cand_check_frames(h, frames, n)) < 0)
		return rc;
	if (n == 0)
		return 0;
	if (h->dead)
		return cand_dead(h);

	want = n < CAND_SEND_CHUNK ? n : CAND_SEND_CHUNK;
	if (h->tx_cap < want) {
		Cand__Frame *tx = realloc(h->tx, want * sizeof(*tx));
		Cand__Frame **txp;

		if (tx == NULL)
			return cand_fail(h, CAND_ENOMEM, "no memory to send");
		h->tx = tx;
		if ((txp = realloc(h->txp, want * sizeof(*txp))) == NULL)
			return cand_fail(h, CAND_ENOMEM, "no memory to send");
		h->txp = txp;
		h->tx_cap = want;
	}

	deadline = cand_now_ms() + timeout_ms;
	req.op_case = CAND__REQUEST__OP_SEND;
	req.send = &sr;
	for (off = 0; off < n; off += cnt) {
		cnt = n - off < CAND_SEND_CHUNK ? n - off : CAND_SEND_CHUNK;
		for (i = 0; i < cnt; i++) {
			cand_frame_to_pb(&h->tx[i], &frames[off + i]);
			h->txp[i] = &h->tx[i];
		}
		/* Later chunks get what is left of the caller's timeout. */
		left = off == 0 ? timeout_ms : deadline - cand_now_ms();
		sr.n_frames = cnt;
		sr.frames = h->txp;
		sr.timeout_ms = left > 0 ? (uint32_t)left : 0;
		rc = cand_rpc(h, &req, &res,
			      cand_now_ms() + sr.timeout_ms +
				      CAND_RPC_GRACE_MS);
		if (rc < 0) {
			/*
			 * Like write(2): once some frames are on the bus, a
			 * short count, so the caller does not send them twice;
			 * cand_last_detail() says what stopped the rest.
			 */
			if (res.has_sent && res.sent < cnt)
				total += res.sent;
			return total > 0 ? (int)total : rc;
		}
		if (!res.has_sent || res.sent >= cnt) {
			total += cnt;
			continue;
		}
		total += res.sent;
		break;
	}
	return (int)total;
}

static int cand_pop(struct cand *h, struct cand_frame *f)
{
	struct cand_link l;

	if (h->n_links > 0 && h->links[0].at == h->q_out) {
		l = h->links[0];
		h->n_links--;
		memmove(h->links, h->links + 1, h->n_links * sizeof(*h->links));
		cand_copy_str(h->detail, sizeof(h->detail), l.detail);
		free(l.detail);
		return l.err;
	}
	if (h->q_head == h->q_tail)
		return 0;
	*f = h->q[h->q_head++];
	h->q_out++;
	if (h->q_head == h->q_tail)
		h->q_head = h->q_tail = 0;
	return 1;
}

CAND_EXPORT int cand_recv(cand_t *h, struct cand_frame *frame, int timeout_ms)
{
	int64_t deadline = -1;
	int rc;

	if (h == NULL || frame == NULL)
		return CAND_EINVAL;
	if (timeout_ms > 0)
		deadline = cand_now_ms() + timeout_ms;
	for (;;) {
		if ((rc = cand_pop(h, frame)) != 0)
			return rc;
		if ((rc = cand_take_msg(h, NULL)) > 0)
			continue;
		if (h->dead)
			return cand_dead(h);
		if (cand_fill(h) != 0)
			continue;
		if (timeout_ms == 0 || cand_wait(h, POLLIN, deadline) == 0)
			return cand_fail(h, CAND_ETIMEOUT, "%s", "");
	}
}

CAND_EXPORT int cand_fileno(cand_t *h)
{
	return h != NULL ? h->fd : CAND_EINVAL;
}

CAND_EXPORT size_t cand_pending(cand_t *h)
{
	if (h == NULL)
		return 0;
	/* A complete message in the buffer is invisible to poll(). */
	cand_take_all(h, NULL);
	return (h->q_tail - h->q_head) + h->n_links +
	       (h->dead && !h->dead_reported ? 1 : 0);
}

CAND_EXPORT uint64_t cand_kernel_drops(cand_t *h)
{
	return h != NULL ? h->kernel_drops : 0;
}

CAND_EXPORT const char *cand_strerror(int err)
{
	switch (err) {
	case CAND_OK:
		return "success";
	case CAND_EINVAL:
		return "invalid argument";
	case CAND_EBADMSG:
		return "malformed message";
	case CAND_ENODEV:
		return "no such CAN interface";
	case CAND_ENETDOWN:
		return "CAN interface is down";
	case CAND_ETXFULL:
		return "TX buffer full";
	case CAND_ENOTOPEN:
		return "channel not open";
	case CAND_EALREADY:
		return "channel already open";
	case CAND_EPERM:
		return "permission denied";
	case CAND_EUNSUPP:
		return "not supported";
	case CAND_ELIMIT:
		return "limit exceeded";
	case CAND_EIO:
		return "CAN I/O error";
	case CAND_EINTERNAL:
		return "internal error in the daemon";
	case CAND_ESHUTDOWN:
		return "the daemon is shutting down";
	case CAND_ETIMEOUT:
		return "timed out";
	case CAND_ECONNECT:
		return "cannot connect to the daemon";
	case CAND_EDISCONNECTED:
		return "the daemon closed the connection";
	case CAND_ENOMEM:
		return "out of memory";
	case CAND_ESYS:
		return "system call failed";
	case CAND_EPROTO:
		return "protocol error: unexpected data from the daemon";
	default:
		return "unknown error";
	}
}

CAND_EXPORT const char *cand_last_detail(cand_t *h)
{
	return h != NULL ? h->detail : "";
}
