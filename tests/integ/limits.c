/*
 * Limits from [limits]: each gives a clear LIMIT_EXCEEDED, never a crash,
 * and leaves the other clients alone; a client that never reads its
 * replies cannot grow the daemon's memory; SIGTERM says goodbye.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cand.pb-c.h"
#include "util.h"
#include "wire.h"

static struct util_daemon d;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void list_ok(cand_t *h, const char *what)
{
	struct cand_iface *l = NULL;
	int rc = cand_list(h, &l);

	ck_assert_msg(rc >= 1, "%s: cand_list: %s (%s)", what,
		      cand_strerror(rc), cand_last_detail(h));
	free(l);
}

START_TEST(test_max_clients)
{
	cand_t *a, *b, *c;
	struct cand_iface *l = NULL;
	int rc;

	util_daemon_start(&d, "limit-clients", "[limits]\nmax_clients = 2\n");
	a = util_connect_as(d.sock, 0, 0);
	b = util_connect_as(d.sock, 0, 0);
	list_ok(a, "first client");
	list_ok(b, "second client");
	/* The kernel accepts the third; the daemon says why it goes. */
	c = util_connect_as(d.sock, 0, 0);
	rc = cand_list(c, &l);
	ck_assert_msg(rc == CAND_ELIMIT,
		      "third client: %d %s, want CAND_ELIMIT", rc,
		      cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(c), "at most 2 clients") != NULL,
		      "detail: %s", cand_last_detail(c));
	cand_close(c);
	list_ok(a, "first client after the refusal");
	list_ok(b, "second client after the refusal");
	/* A place freed is a place taken. */
	cand_close(b);
	util_msleep(SETTLE_MS);
	c = util_connect_as(d.sock, 0, 0);
	list_ok(c, "a client after one left");

	/* A lower limit on reload keeps who is there. */
	util_daemon_write_conf(&d, "[limits]\nmax_clients = 1\n");
	util_daemon_reload(&d, 1);
	list_ok(a, "first client after lowering the limit");
	list_ok(c, "second client after lowering the limit");
	b = util_connect_as(d.sock, 0, 0);
	ck_assert_int_eq(cand_list(b, &l), CAND_ELIMIT);
	cand_close(a);
	cand_close(b);
	cand_close(c);
	util_daemon_stop(&d);
}
END_TEST

START_TEST(test_max_message_size)
{
	enum { N = 100 };
	struct cand_frame f[N], got;
	int s = util_raw_open("vcan1", 0), rc, i;
	cand_t *h;

	util_daemon_start(&d, "limit-msg", "[limits]\nmax_message_size = 1K\n");
	h = util_connect_as(d.sock, 0, 0);
	ck_assert_int_eq(util_try_open(h, "vcan1"), 0);
	for (i = 0; i < N; i++)
		f[i] = util_frame(0x400 + (uint32_t)i, 0, "0011223344556677");
	rc = cand_send(h, f, N, 0);
	ck_assert_msg(rc == CAND_ELIMIT, "a request of ~2 KiB: %d %s", rc,
		      cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(h), "max_message_size") != NULL,
		      "detail: %s", cand_last_detail(h));
	/* Skipped, not read: nothing of it is on the bus. */
	util_raw_recv_none(s, SETTLE_MS, "after the oversized request");
	/* The connection is still in step. */
	util_send(h, &f[7], 1);
	util_raw_recv_ok(s, &got, "a small send after it");
	util_assert_frame(&got, &f[7], "a small send after it");
	list_ok(h, "after the oversized request");
	cand_close(h);
	util_daemon_stop(&d);
}
END_TEST

START_TEST(test_max_filters)
{
	struct cand_filter flt[5];
	struct cand_options o;
	cand_t *h;
	int rc, i;

	util_daemon_start(&d, "limit-filters", "[limits]\nmax_filters = 4\n");
	for (i = 0; i < 5; i++)
		flt[i] = (struct cand_filter){0x100 + (uint32_t)i, 0x7FF,
					      CAND_FILTER_ANY, 0};
	h = util_connect_as(d.sock, 0, 0);
	cand_options_init(&o);
	o.channel = "vcan0";
	o.filters = flt;
	o.n_filters = 5;
	rc = cand_open(h, &o);
	ck_assert_msg(rc == CAND_ELIMIT, "open with 5 filters: %d %s", rc,
		      cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(h), "limit is 4") != NULL,
		      "detail: %s", cand_last_detail(h));
	o.n_filters = 4;
	ck_assert_int_eq(cand_open(h, &o), 0);
	rc = cand_set_filters(h, flt, 5);
	ck_assert_msg(rc == CAND_ELIMIT, "set_filters with 5: %d %s", rc,
		      cand_strerror(rc));
	ck_assert_int_eq(cand_set_filters(h, flt, 2), 0);
	cand_close(h);
	util_daemon_stop(&d);
}
END_TEST

/* One `list` request, framed, for a client that never reads. */
static size_t pack_list(uint8_t *buf, uint32_t id)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__ListRequest list = CAND__LIST_REQUEST__INIT;
	size_t len;

	req.id = id;
	req.op_case = CAND__REQUEST__OP_LIST;
	req.list = &list;
	len = cand__request__pack(&req, buf + CAND_WIRE_HDR);
	wire_put_len(buf, (uint32_t)len);
	return CAND_WIRE_HDR + len;
}

/*
 * A client sends requests as fast as it can and reads none of the replies.
 * The daemon stops reading it once its output passes the high watermark, so
 * the client's writes stall, the daemon's memory stays put, and everyone
 * else is served.
 */
START_TEST(test_unread_replies_bound_memory)
{
	enum { CAP = 64 << 20 };
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pollfd pfd;
	uint8_t chunk[65536];
	size_t one, fill = 0, written = 0;
	long rss0, rss1;
	int64_t stalled_since = 0;
	uint32_t id = 1;
	cand_t *other;
	ssize_t n;
	int fd;

	util_daemon_start(&d, "limit-memory",
			  "[limits]\n"
			  "output_high_watermark = 64K\n"
			  "output_low_watermark = 16K\n");
	while (fill + 32 < sizeof(chunk))
		fill += pack_list(chunk + fill, id++);
	one = fill;
	rss0 = util_rss_kib(d.pid);

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	strcpy(sa.sun_path, d.sock);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	pfd.fd = fd;
	pfd.events = POLLOUT;
	/* Until the daemon has taken nothing for a second, or CAP bytes. */
	while (written < CAP) {
		n = send(fd, chunk, one, MSG_NOSIGNAL);
		if (n > 0) {
			written += (size_t)n;
			stalled_since = 0;
			continue;
		}
		ck_assert_msg(n < 0 && errno == EAGAIN, "send: %s",
			      strerror(errno));
		if (stalled_since == 0)
			stalled_since = now_ms();
		else if (now_ms() - stalled_since > 1000)
			break;
		poll(&pfd, 1, 100);
	}
	ck_assert_msg(written < CAP,
		      "the daemon took %zu bytes of requests whose replies "
		      "nobody reads",
		      written);
	rss1 = util_rss_kib(d.pid);
	/*
	 * The watermark is 64 KiB; 8 MiB is room for malloc's ways. Valgrind
	 * and ASan keep freed memory on purpose, so there only the stall
	 * above says the daemon stopped reading.
	 */
	ck_assert_msg(rss1 - rss0 < util_rss_slack_kib(8192),
		      "daemon RSS grew from %ld to %ld KiB (%zu bytes sent)",
		      rss0, rss1, written);

	/* Everyone else is served meanwhile, promptly. */
	other = util_connect_as(d.sock, UID_CANDTEST, UID_CANDTEST);
	list_ok(other, "another client while one does not read");
	cand_close(other);
	close(fd);
	util_daemon_stop(&d);
}
END_TEST

START_TEST(test_shutdown_event)
{
	struct cand_frame f = util_frame(0x100, 0, "01");
	cand_t *h;
	int rc;

	/* Without reconnection it is told and stays so (restart.c: with). */
	setenv("CAND_RECONNECT_MS", "0", 1);
	util_daemon_start(&d, "limit-shutdown", "");
	h = util_connect_as(d.sock, 0, 0);
	ck_assert_int_eq(util_try_open(h, "vcan0"), 0);
	ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
	rc = cand_recv(h, &f, 10000);
	ck_assert_msg(rc == CAND_ESHUTDOWN, "cand_recv at SIGTERM: %d %s", rc,
		      cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(h), "shutting down") != NULL,
		      "detail: %s", cand_last_detail(h));
	/* It stays said, for every call. */
	ck_assert_int_eq(cand_recv(h, &f, 0), CAND_ESHUTDOWN);
	f = util_frame(0x100, 0, "01");
	ck_assert_int_eq(cand_send(h, &f, 1, 0), CAND_ESHUTDOWN);
	cand_close(h);
	util_daemon_wait(&d);
}
END_TEST

Suite *limits_suite(void)
{
	Suite *s = suite_create("limits");
	TCase *tc = util_tcase("limits");

	tcase_add_test(tc, test_max_clients);
	tcase_add_test(tc, test_max_message_size);
	tcase_add_test(tc, test_max_filters);
	tcase_add_test(tc, test_unread_replies_bound_memory);
	tcase_add_test(tc, test_shutdown_event);
	suite_add_tcase(s, tc);
	return s;
}
