/*
 * The daemon's request path. The input is what one client writes on its
 * connection: it goes through a socketpair into conn.c (framing),
 * dispatch.c (unpacking, the handler table, the policy) and the handlers,
 * as far as each gets on a host without CAN, where opening a channel
 * fails with EAFNOSUPPORT or ENODEV: a path like any other.
 *
 * Beyond the sanitizers it checks what the protocol promises. The input's
 * own framing says which replies must come: one per complete request, in
 * order, with its id (0 for one that does not unpack or is over
 * max_message_size). A connection still open has all of them; one the
 * daemon closed has a prefix of them, was closed only for a length no
 * stream can recover from, and the reason is in the log. Then the client
 * hangs up and the context must hold nothing of it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/event.h>

#include "fuzz.h"
#include "pb/pb.h"
#include "wire.h"

/* The peer when we are root (nobody): policy, not root's pass, decides. */
#define FUZZ_CONN_UID 65534
#define FUZZ_CONN_GID 65534
/* Loop rounds with nothing happening before the daemon counts as idle. */
#define FUZZ_CONN_IDLE 3
/* More rounds than any input needs: beyond them the daemon is spinning. */
#define FUZZ_CONN_ROUNDS 100000

/* The daemon's one context, as main() makes it, without a listener. */
static struct cand_ctx fuzz_conn_ctx;

/* What the input's framing says the daemon must do. */
struct fuzz_conn_expect {
	uint32_t *ids; /* room for one per header the input can hold */
	size_t n;
	int killed; /* a length no stream recovers from */
};

/* What came back on the client's end. */
struct fuzz_conn_seen {
	uint8_t *buf;
	size_t len, cap;
	int eof;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct cand_ctx *ctx = &fuzz_conn_ctx;
	struct cand_config cfg;
	char err[512];

	(void)argc;
	(void)argv;
	fuzz_isolate();
	TAILQ_INIT(&ctx->sessions);
	TAILQ_INIT(&ctx->conns);
	TAILQ_INIT(&ctx->canifs);
	ctx->nl_fd = -1;
	ctx->listen_fd = -1;
	ctx->base = event_base_new();
	if (ctx->base == NULL || rawsock_scratch_init(ctx) < 0 ||
	    encode_init(ctx) < 0)
		fuzz_die("cannot set up the daemon context");
	if (config_load_string(fuzz_conf, "fuzz.conf", &cfg, err, sizeof(err)) <
	    0)
		fuzz_die(err);
	ctx->limits = cfg.limits;
	ctx->policy = cfg.policy;
	ctx->config.busoff = cfg.busoff;
	ctx->config.n_busoff = cfg.n_busoff;
	/*
	 * One input now, so that what is set up once (NSS modules for the
	 * peer's groups, libevent's fd map) is not taken for a leak later.
	 */
	LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
	return 0;
}

/*
 * Sets this thread's effective ids. Raw syscalls: glibc's seteuid() makes
 * every thread change (libFuzzer has a few), with a signal to each, and
 * SO_PEERCRED only needs the thread that makes the socket.
 */
static void fuzz_conn_ids(uid_t uid, gid_t gid)
{
	if (uid != 0 && syscall(SYS_setresgid, -1, gid, -1) < 0)
		fuzz_die("setresgid");
	if (syscall(SYS_setresuid, -1, uid, -1) < 0)
		fuzz_die("setresuid");
	if (uid == 0 && syscall(SYS_setresgid, -1, gid, -1) < 0)
		fuzz_die("setresgid");
}

/*
 * A connected pair whose SO_PEERCRED, the creator's effective ids at the
 * time, is not root's when we are root.
 */
static void fuzz_conn_socketpair(int sv[2])
{
	int root = geteuid() == 0;

	if (root)
		fuzz_conn_ids(FUZZ_CONN_UID, FUZZ_CONN_GID);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0)
		fuzz_die("socketpair");
	if (root)
		fuzz_conn_ids(0, 0);
}

/* The request ids the input asks replies for, by the daemon's framing. */
static void fuzz_conn_model(const uint8_t *data, size_t size, size_t max_msg,
			    struct fuzz_conn_expect *e)
{
	Cand__Request *req;
	size_t off = 0;
	uint32_t len;

	e->ids = fuzz_alloc((size / CAND_WIRE_HDR + 1) * sizeof(e->ids[0]));
	e->n = 0;
	e->killed = 0;
	while (size - off >= CAND_WIRE_HDR) {
		len = wire_get_len(data + off);
		if (len == 0 || len > CAND_MAX_MSG) {
			e->killed = 1;
			return;
		}
		if (len > max_msg) {
			/* Answered on its header, then skipped unread. */
			e->ids[e->n++] = 0;
			off += CAND_WIRE_HDR;
			off += len < size - off ? len : size - off;
			continue;
		}
		if (size - off - CAND_WIRE_HDR < len)
			return; /* waits for the rest */
		req = cand__request__unpack(NULL, len,
					    data + off + CAND_WIRE_HDR);
		e->ids[e->n++] = req != NULL ? req->id : 0;
		if (req != NULL)
			cand__request__free_unpacked(req, NULL);
		off += CAND_WIRE_HDR + len;
	}
}

/* Reads what the daemon wrote; returns whether anything (or EOF) came. */
static int fuzz_conn_drain(int fd, struct fuzz_conn_seen *s)
{
	ssize_t n;
	int got = 0;

	while (!s->eof) {
		/* Small first: most inputs get a few replies back. */
		if (s->len == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 4096;
			s->buf = fuzz_realloc(s->buf, s->cap);
		}
		n = read(fd, s->buf + s->len, s->cap - s->len);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0 && errno != ECONNRESET)
			fuzz_die("read from the daemon failed");
		if (n <= 0)
			s->eof = 1;
		else
			s->len += (size_t)n;
		got = 1;
	}
	return got;
}

/* Bytes the daemon has not read yet, or 0 once it closed its end. */
static int fuzz_conn_unread(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) < 0 ? 0 : n;
}

/*
 * Runs the loop and the client until neither has anything left to do:
 * the input written (as the socket takes it), replies read as they come.
 */
static void fuzz_conn_pump(int peer, int daemon_fd, const uint8_t *data,
			   size_t size, struct fuzz_conn_seen *s)
{
	size_t off = 0;
	int idle = 0, rounds = 0, left = -1, now;
	ssize_t n;

	while (idle < FUZZ_CONN_IDLE && !s->eof) {
		int busy = 0;

		if (++rounds > FUZZ_CONN_ROUNDS)
			fuzz_die("the daemon never went idle");
		if (off < size) {
			n = write(peer, data + off, size - off);
			if (n < 0 && errno != EAGAIN && errno != EPIPE)
				fuzz_die("write to the daemon failed");
			if (n > 0) {
				off += (size_t)n;
				busy = 1;
			}
		}
		event_base_loop(fuzz_conn_ctx.base, EVLOOP_NONBLOCK);
		busy |= fuzz_conn_drain(peer, s);
		now = fuzz_conn_unread(daemon_fd);
		busy |= now != left;
		left = now;
		idle = busy ? 0 : idle + 1;
	}
}

/* The replies' ids, in order; every message must decode. */
static size_t fuzz_conn_replies(const struct fuzz_conn_seen *s, uint32_t *ids,
				size_t max)
{
	Cand__ServerMsg *m;
	size_t off = 0, n = 0;
	uint32_t len;

	while (s->len - off >= CAND_WIRE_HDR) {
		len = wire_get_len(s->buf + off);
		FUZZ_CHECK(len > 0 && len <= CAND_MAX_MSG);
		FUZZ_CHECK(s->len - off - CAND_WIRE_HDR >= len);
		m = cand__server_msg__unpack(NULL, len,
					     s->buf + off + CAND_WIRE_HDR);
		FUZZ_CHECK(m != NULL);
		if (m->msg_case == CAND__SERVER_MSG__MSG_REPLY) {
			FUZZ_CHECK(n < max);
			ids[n++] = m->reply->id;
		}
		cand__server_msg__free_unpacked(m, NULL);
		off += CAND_WIRE_HDR + len;
	}
	FUZZ_CHECK(off == s->len); /* no torn message */
	return n;
}

/* A warning or an error naming the first client and its disconnection. */
static int fuzz_conn_logged_close(const char *log)
{
	const char *l;

	for (l = log; l != NULL && *l != '\0'; l = strchr(l, '\n'), l += !!l)
		if ((strncmp(l, "<4>client 1: ", 13) == 0 ||
		     strncmp(l, "<3>client 1: ", 13) == 0) &&
		    strstr(l, "disconnecting") != NULL &&
		    strstr(l, "disconnecting") < strchrnul(l, '\n'))
			return 1;
	return 0;
}

static void fuzz_conn_check(const struct fuzz_conn_expect *e,
			    const struct fuzz_conn_seen *s, const char *log)
{
	uint32_t *got = fuzz_alloc((s->len / CAND_WIRE_HDR + 1) * sizeof(*got));
	size_t n = fuzz_conn_replies(s, got, s->len / CAND_WIRE_HDR + 1);

	if (s->eof) {
		/* Closed: only for broken framing, said why, lied nowhere. */
		FUZZ_CHECK(e->killed);
		FUZZ_CHECK(fuzz_conn_logged_close(log));
		FUZZ_CHECK(n <= e->n);
	} else {
		FUZZ_CHECK(!e->killed);
		FUZZ_CHECK(n == e->n);
	}
	FUZZ_CHECK(n == 0 || memcmp(got, e->ids, n * sizeof(got[0])) == 0);
	free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_conn_expect expect;
	struct cand_ctx *ctx = &fuzz_conn_ctx;
	struct fuzz_conn_seen seen = {NULL, 0, 0, 0};
	struct fuzz_log log;
	int sv[2], daemon_fd, rounds;

	fuzz_conn_model(data, size, ctx->limits.max_msg, &expect);
	fuzz_conn_socketpair(sv);
	daemon_fd = sv[0];

	fuzz_log_begin(&log);
	if (conn_new(ctx, daemon_fd) < 0)
		fuzz_die("conn_new");
	fuzz_conn_pump(sv[1], daemon_fd, data, size, &seen);
	fuzz_log_end(&log);
	fuzz_conn_check(&expect, &seen, log.text);
	fuzz_log_free(&log);

	/* The client hangs up: the daemon must let go of everything. */
	fuzz_log_begin(&log);
	close(sv[1]);
	for (rounds = 0; !TAILQ_EMPTY(&ctx->conns); rounds++) {
		FUZZ_CHECK(rounds < FUZZ_CONN_ROUNDS);
		event_base_loop(ctx->base, EVLOOP_NONBLOCK);
	}
	fuzz_log_end(&log);
	fuzz_log_free(&log);
	FUZZ_CHECK(TAILQ_EMPTY(&ctx->conns));
	FUZZ_CHECK(TAILQ_EMPTY(&ctx->sessions));
	FUZZ_CHECK(ctx->n_sessions == 0);
	FUZZ_CHECK(event_base_get_num_events(
			   ctx->base, EVENT_BASE_COUNT_ADDED |
					      EVENT_BASE_COUNT_ACTIVE) == 0);
	/* The next input meets the same daemon: client 1 again. */
	ctx->next_sess_id = 0;
	free(seen.buf);
	free(expect.ids);
	return 0;
}
