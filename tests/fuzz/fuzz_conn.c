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
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/event.h>

#include "fuzz.h"
#include "fuzzctx.h"
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

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_isolate();
	fuzzctx_init(&fuzz_conn_ctx, fuzz_conf, 0);
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

/* The replies' ids, in order; every message must decode. */
static size_t fuzz_conn_replies(const struct fuzz_seen *s, uint32_t *ids,
				size_t max)
{
	Cand__ServerMsg *m;
	size_t off = 0, n = 0;
	uint32_t len;

	while (s->len - off >= CAND_WIRE_HDR) {
		len = wire_get_len((const uint8_t *)s->buf + off);
		FUZZ_CHECK(len > 0 && len <= CAND_MAX_MSG);
		FUZZ_CHECK(s->len - off - CAND_WIRE_HDR >= len);
		m = cand__server_msg__unpack(NULL, len,
					     (const uint8_t *)s->buf + off +
						     CAND_WIRE_HDR);
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
			    const struct fuzz_seen *s, const char *log)
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
	struct fuzz_seen seen = {NULL, 0, 0, 0};
	struct fuzz_log log;
	int sv[2], daemon_fd;

	fuzz_conn_model(data, size, ctx->limits.max_msg, &expect);
	fuzz_conn_socketpair(sv);
	daemon_fd = sv[0];

	fuzz_log_begin(&log);
	if (conn_new(ctx, daemon_fd) < 0)
		fuzz_die("conn_new");
	fuzz_pump(ctx->base, sv[1], daemon_fd, data, size, &seen,
		  FUZZ_CONN_IDLE, FUZZ_CONN_ROUNDS);
	fuzz_log_end(&log);
	fuzz_conn_check(&expect, &seen, log.text);
	fuzz_log_free(&log);

	/* The client hangs up: the daemon must let go of everything. */
	fuzzctx_hangup(ctx, sv[1]);
	free(seen.buf);
	free(expect.ids);
	return 0;
}
