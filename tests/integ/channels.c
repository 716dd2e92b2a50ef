/*
 * Channels and clients: the "" channel (every interface), interface
 * listing, and an unprivileged client.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define TEST_UID 4242
#define TEST_GID 4242

START_TEST(test_any_channel_receives_all)
{
	cand_t *h = util_open("");
	struct cand_frame f, want;

	ck_assert_int_eq(util_sh("cansend vcan0 123#0A"), 0);
	util_recv_ok(h, &f, "vcan0 frame on channel \"\"");
	want = util_frame(0x123, 0, "0A");
	util_assert_frame(&f, &want, "vcan0 frame on channel \"\"");
	ck_assert_str_eq(f.ifname, "vcan0");

	ck_assert_int_eq(util_sh("cansend vcan1 456#0B0C"), 0);
	util_recv_ok(h, &f, "vcan1 frame on channel \"\"");
	want = util_frame(0x456, 0, "0B0C");
	util_assert_frame(&f, &want, "vcan1 frame on channel \"\"");
	ck_assert_str_eq(f.ifname, "vcan1");
	util_recv_none(h, SETTLE_MS, "after two frames");
	cand_close(h);
}
END_TEST

START_TEST(test_any_channel_send_needs_ifname)
{
	cand_t *h = util_open("");
	int s0 = util_raw_open("vcan0", 0), s1 = util_raw_open("vcan1", 0);
	struct cand_frame f = util_frame(0x321, 0, "01"), got;
	int rc;

	rc = cand_send(h, &f, 1, 0);
	ck_assert_msg(rc == CAND_EINVAL,
		      "send without ifname on channel \"\": %d %s, want "
		      "CAND_EINVAL",
		      rc, cand_strerror(rc));
	util_raw_recv_none(s0, SETTLE_MS, "vcan0 after the refused send");
	util_raw_recv_none(s1, 10, "vcan1 after the refused send");

	strcpy(f.ifname, "vcan1");
	util_send(h, &f, 1);
	util_raw_recv_ok(s1, &got, "send with ifname vcan1");
	util_assert_frame(&got, &f, "send with ifname vcan1");
	util_raw_recv_none(s0, SETTLE_MS, "vcan0 when sending on vcan1");

	strcpy(f.ifname, "vcan0");
	f.id = 0x322;
	util_send(h, &f, 1);
	util_raw_recv_ok(s0, &got, "send with ifname vcan0");
	util_assert_frame(&got, &f, "send with ifname vcan0");
	util_raw_recv_none(s1, SETTLE_MS, "vcan1 when sending on vcan0");
	cand_close(h);
}
END_TEST

START_TEST(test_any_channel_unknown_ifname)
{
	cand_t *h = util_open("");
	struct cand_frame f = util_frame(0x321, 0, "01");
	int rc;

	strcpy(f.ifname, "nosuchcan9");
	rc = cand_send(h, &f, 1, 0);
	ck_assert_msg(rc == CAND_ENODEV,
		      "send on an unknown ifname: %d %s, want CAND_ENODEV", rc,
		      cand_strerror(rc));
	cand_close(h);
}
END_TEST

static const struct cand_iface *find(const struct cand_iface *l, int n,
				     const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return &l[i];
	return NULL;
}

START_TEST(test_list)
{
	cand_t *h = util_connect();
	struct cand_iface *l = NULL;
	const struct cand_iface *i;
	int n = cand_list(h, &l);

	ck_assert_msg(n >= 2, "cand_list: %d %s", n, cand_strerror(n));
	i = find(l, n, "vcan0");
	ck_assert_msg(i != NULL, "vcan0 not listed");
	ck_assert_uint_eq(i->mtu, 72);
	ck_assert_int_eq(i->hardware, 0);
	ck_assert_int_ne(i->up, 0);
	ck_assert_str_eq(i->kind, "vcan");
	ck_assert_uint_eq(i->ifindex, if_nametoindex("vcan0"));

	i = find(l, n, "vcan1");
	ck_assert_msg(i != NULL, "vcan1 not listed");
	ck_assert_uint_eq(i->mtu, 16);
	ck_assert_int_eq(i->hardware, 0);

	ck_assert_msg(find(l, n, "lo") == NULL, "lo is not a CAN interface");

	if (util_have_iface("can0")) {
		i = find(l, n, "can0");
		ck_assert_msg(i != NULL, "can0 exists but is not listed");
		ck_assert_int_ne(i->hardware, 0);
		ck_assert_str_eq(i->kind, "can");
		ck_assert_uint_eq(i->mtu, 16);
		ck_assert_int_ne(i->up, 0);
	}
	free(l);
	cand_close(h);
}
END_TEST

/* A handle can be listed with after open too. */
START_TEST(test_list_on_open_handle)
{
	cand_t *h = util_open("vcan0");
	struct cand_iface *l = NULL;
	int n = cand_list(h, &l);

	ck_assert_msg(n >= 2, "cand_list on an open handle: %d %s", n,
		      cand_strerror(n));
	ck_assert_ptr_nonnull(find(l, n, "vcan0"));
	free(l);
	cand_close(h);
}
END_TEST

START_TEST(test_non_root_client)
{
	int s = util_raw_open("vcan0", 0);
	cand_t *h;
	struct cand_frame f = util_frame(0x1AB, 0, "4242"), got;
	struct cand_iface *l = NULL;
	int n;
	const char *fork_mode = getenv("CK_FORK");

	if (fork_mode != NULL && strcmp(fork_mode, "no") == 0) {
		fprintf(stderr, "test_non_root_client needs CK_FORK=yes, "
				"skipped\n");
		return;
	}
	/* This test runs in its own process: drop root for good. */
	ck_assert_msg(setgroups(0, NULL) == 0, "setgroups: %s",
		      strerror(errno));
	ck_assert_msg(setgid(TEST_GID) == 0, "setgid: %s", strerror(errno));
	ck_assert_msg(setuid(TEST_UID) == 0, "setuid: %s", strerror(errno));
	ck_assert_int_eq(geteuid(), TEST_UID);

	h = util_open("vcan0");
	util_send(h, &f, 1);
	util_raw_recv_ok(s, &got, "frame sent by uid 4242");
	util_assert_frame(&got, &f, "frame sent by uid 4242");

	f = util_frame(0x1AC, CAND_FRAME_EXTENDED, "0102");
	util_raw_send(s, &f);
	util_recv_ok(h, &got, "frame received by uid 4242");
	util_assert_frame(&got, &f, "frame received by uid 4242");

	n = cand_list(h, &l);
	ck_assert_msg(n >= 1, "cand_list as uid 4242: %s", cand_strerror(n));
	free(l);
	cand_close(h);
}
END_TEST

/* Poll cand_fileno(), then drain with timeout 0, as cand.h says. */
START_TEST(test_poll_fileno)
{
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", 0), rc, n = 0;
	struct cand_frame f, got;
	struct pollfd pfd;
	uint64_t t0;

	/* Nothing there: timeout 0 returns at once, > 0 waits that long. */
	t0 = util_now_ns();
	ck_assert_int_eq(cand_recv(h, &got, 0), CAND_ETIMEOUT);
	rc = cand_recv(h, &got, 300);
	ck_assert_int_eq(rc, CAND_ETIMEOUT);
	ck_assert_msg(util_now_ns() - t0 >= 290000000ull,
		      "cand_recv(300 ms) returned after %llu ms",
		      (unsigned long long)(util_now_ns() - t0) / 1000000);
	ck_assert_uint_eq(cand_pending(h), 0);

	f = util_frame(0x111, 0, "01");
	util_raw_send(s, &f);
	f.id = 0x112;
	util_raw_send(s, &f);
	if (cand_pending(h) == 0) {
		pfd.fd = cand_fileno(h);
		pfd.events = POLLIN;
		ck_assert_int_ge(pfd.fd, 0);
		ck_assert_msg(poll(&pfd, 1, RX_TIMEOUT_MS) == 1,
			      "cand_fileno() never became readable");
	}
	while (n < 2) {
		rc = cand_recv(h, &got, 0);
		if (rc == CAND_ETIMEOUT && n < 2) {
			/* The second frame may come in its own batch. */
			pfd.fd = cand_fileno(h);
			pfd.events = POLLIN;
			ck_assert_msg(poll(&pfd, 1, RX_TIMEOUT_MS) == 1,
				      "no second frame");
			continue;
		}
		ck_assert_int_eq(rc, 1);
		ck_assert_uint_eq(got.id, 0x111 + (uint32_t)n);
		n++;
	}
	ck_assert_int_eq(cand_recv(h, &got, 0), CAND_ETIMEOUT);
	cand_close(h);
}
END_TEST

static void on_alarm(int sig)
{
	(void)sig;
}

/* cand_recv(h, f, ms) that has waited ms, give or take the clock's tick. */
static void recv_times_out(cand_t *h, const char *what)
{
	struct cand_frame got;
	uint64_t t0 = util_now_ns(), ms;

	ck_assert_int_eq(cand_recv(h, &got, 300), CAND_ETIMEOUT);
	ms = (util_now_ns() - t0) / 1000000;
	ck_assert_msg(ms >= 290 && ms < 2000, "%s: returned after %llu ms",
		      what, (unsigned long long)ms);
}

/*
 * cand_recv() with a timeout waits inside recv() on a blocking socket;
 * a signal or a descriptor someone made non-blocking must not cut the
 * wait short, and a frame must still end it at once.
 */
START_TEST(test_recv_wait_holds)
{
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
	struct itimerval it = {.it_value = {0, 100000}};
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", 0), fd, flags, status;
	struct cand_frame f, got;
	uint64_t t0;
	pid_t pid;

	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	recv_times_out(h, "a signal 100 ms in");

	fd = cand_fileno(h);
	flags = fcntl(fd, F_GETFL);
	ck_assert_int_eq(fcntl(fd, F_SETFL, flags | O_NONBLOCK), 0);
	recv_times_out(h, "a non-blocking descriptor");
	ck_assert_int_eq(fcntl(fd, F_SETFL, flags), 0);

	/* The frame comes 200 ms into the wait, from another process. */
	t0 = util_now_ns();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		usleep(200000);
		f = util_frame(0x123, 0, "0102");
		util_raw_send(s, &f);
		_exit(0);
	}
	ck_assert_int_eq(cand_recv(h, &got, 5000), 1);
	ck_assert_uint_eq(got.id, 0x123);
	ck_assert_msg(util_now_ns() - t0 < 2000000000ull,
		      "a frame took %llu ms to end the wait",
		      (unsigned long long)(util_now_ns() - t0) / 1000000);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the sending child failed");
	signal(SIGALRM, SIG_DFL);
	close(s);
	cand_close(h);
}
END_TEST

Suite *channel_suite(void)
{
	Suite *s = suite_create("channels");
	TCase *tc = util_tcase("any");

	tcase_add_test(tc, test_any_channel_receives_all);
	tcase_add_test(tc, test_any_channel_send_needs_ifname);
	tcase_add_test(tc, test_any_channel_unknown_ifname);
	suite_add_tcase(s, tc);

	tc = util_tcase("list");
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_list_on_open_handle);
	suite_add_tcase(s, tc);

	tc = util_tcase("api");
	tcase_add_test(tc, test_poll_fileno);
	tcase_add_test(tc, test_recv_wait_holds);
	suite_add_tcase(s, tc);

	tc = util_tcase("privileges");
	tcase_add_test(tc, test_non_root_client);
	suite_add_tcase(s, tc);
	return s;
}
