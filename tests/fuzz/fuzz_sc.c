/*
 * socketcand's front-end. The input is what one TCP peer writes: it goes
 * through a socketpair into sc/conn.c (elements cut from the stream,
 * garbage, over-long elements), parse.c (commands) and cmd.c (modes,
 * rights, the handlers), as far as each gets on a host without CAN:
 * opening a bus fails there, and socketcand then closes the connection.
 *
 * Beyond the sanitizers it checks two things. Every element parse.c
 * takes is within its bounds and reads back the same from its canonical
 * text (sccheck.c). And the peer gets what the protocol promises:
 * "< hi >", then one answer per element, per over-long element and per
 * run of garbage, of the right kind (ok, error, echo), each a well-formed
 * element of printable ASCII; a close only after a refused open, with
 * the reason logged. Then the peer hangs up and the context must hold
 * nothing of it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "fuzz.h"
#include "fuzzctx.h"
#include "sc/sc.h"
#include "sccheck.h"

/* Loop rounds with nothing happening before the daemon counts as idle. */
#define FUZZ_SC_IDLE 3
/* More rounds than any input needs: beyond them the daemon is spinning. */
#define FUZZ_SC_ROUNDS 100000

/*
 * Peers of 127.0.0.1 may open and send on some buses, configure one;
 * [socketcand] offers some of them only.
 */
static const char fuzz_sc_conf[] = "[limits]\n"
				   "max_clients = 4\n"
				   "output_high_watermark = 8K\n"
				   "output_low_watermark = 2K\n"
				   "[socketcand]\n"
				   "interfaces = vcan* can1 lo\n"
				   "[rule peer]\n"
				   "interfaces = *\n"
				   "peers = 127.0.0.1\n"
				   "rights = read\n"
				   "[rule send]\n"
				   "interfaces = vcan0 lo\n"
				   "peers = 127.0.0.0/8\n"
				   "rights = send periodic monitor\n"
				   "[rule configure]\n"
				   "interfaces = can1\n"
				   "peers = 127.0.0.1\n"
				   "rights = configure\n";

static struct cand_ctx fuzz_sc_ctx;
static struct ident fuzz_sc_peer = {
	.kind = IDENT_PEER, .uid = (uid_t)-1, .gid = (gid_t)-1};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in sin = {0};

	(void)argc;
	(void)argv;
	fuzz_isolate();
	fuzzctx_init(&fuzz_sc_ctx, fuzz_sc_conf, 1);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (peer_from_sockaddr((const struct sockaddr *)&sin, sizeof(sin),
			       &fuzz_sc_peer.peer) < 0)
		fuzz_die("peer_from_sockaddr");
	/* Once now: what is set up once is not taken for a leak later. */
	LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
	return 0;
}

/* The answers that came, as letters; each must be a sound element. */
static void fuzz_sc_answers(const struct fuzz_seen *s, char *got)
{
	size_t off = 0, n = 0, end, i;
	const char *p = s->buf;

	while (off < s->len) {
		FUZZ_CHECK(s->len - off >= 4 && p[off] == '<' &&
			   p[off + 1] == ' ');
		for (end = off + 1; end < s->len && p[end] != '>'; end++) {
			FUZZ_CHECK(p[end] != '<');
			FUZZ_CHECK(p[end] >= 0x20 && p[end] < 0x7f);
		}
		FUZZ_CHECK(end < s->len && p[end - 1] == ' ');
		i = end + 1 - off;
		if (i == 6 && memcmp(p + off, "< hi >", 6) == 0)
			got[n++] = 'h';
		else if (i == 6 && memcmp(p + off, "< ok >", 6) == 0)
			got[n++] = 'o';
		else if (i == 8 && memcmp(p + off, "< echo >", 8) == 0)
			got[n++] = 'c';
		else if (i > 10 && memcmp(p + off, "< error ", 8) == 0)
			got[n++] = 'e';
		else
			FUZZ_CHECK(!"an answer of no known kind");
		off = end + 1;
	}
	got[n] = '\0';
}

/* The refusal logged: "client 1 (peer 127.0.0.1): ...; disconnecting". */
static int fuzz_sc_logged_close(const char *log)
{
	const char *l, *nl;

	for (l = log; l != NULL && *l != '\0'; l = nl + !!*nl) {
		nl = strchrnul(l, '\n');
		if (strncmp(l, "<6>client 1 (peer 127.0.0.1): ", 30) == 0 &&
		    nl - l > 15 && memcmp(nl - 15, "; disconnecting", 15) == 0)
			return 1;
	}
	return 0;
}

static void fuzz_sc_check(const char *want, int closes,
			  const struct fuzz_seen *s, const char *log)
{
	char *got = fuzz_alloc(s->len / 4 + 2);
	size_t i;

	fuzz_sc_answers(s, got);
	FUZZ_CHECK(s->eof == closes);
	if (closes)
		FUZZ_CHECK(fuzz_sc_logged_close(log));
	FUZZ_CHECK(strlen(got) == strlen(want));
	for (i = 0; want[i] != '\0'; i++)
		FUZZ_CHECK(
			got[i] == want[i] ||
			(want[i] == '?' && (got[i] == 'o' || got[i] == 'e')));
	free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cand_ctx *ctx = &fuzz_sc_ctx;
	struct fuzz_seen seen = {NULL, 0, 0, 0};
	struct fuzz_log log;
	char *want = fuzz_alloc(size + 2);
	int sv[2], closes;

	sccheck_stream((const char *)data, size, want, &closes);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0)
		fuzz_die("socketpair");
	fuzz_log_begin(&log);
	if (sc_conn_new(ctx, sv[0], &fuzz_sc_peer) < 0)
		fuzz_die("sc_conn_new");
	fuzz_pump(ctx->base, sv[1], sv[0], data, size, &seen, FUZZ_SC_IDLE,
		  FUZZ_SC_ROUNDS);
	fuzz_log_end(&log);
	fuzz_sc_check(want, closes, &seen, log.text);
	fuzz_log_free(&log);

	/* The peer hangs up: the daemon must let go of everything. */
	fuzzctx_hangup(ctx, sv[1]);
	free(seen.buf);
	free(want);
	return 0;
}
