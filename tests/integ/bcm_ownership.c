/*
 * Ownership and lifetime: tasks belong to their connection, no other
 * client can reach them even by naming their ids on the wire, and they
 * end, with their kernel sockets, when the owner goes.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bcm.h"
#include "bcm_timing.h"
#include "cand.pb-c.h"
#include "wire.h"

/* Sends req, skips events, returns the reply's status. */
static int wire_status(int fd, Cand__Request *req)
{
	uint8_t buf[4096];
	size_t len = cand__request__get_packed_size(req), got = 0;
	Cand__ServerMsg *m;
	uint32_t mlen;
	ssize_t n;
	int status;

	ck_assert(len + CAND_WIRE_HDR <= sizeof(buf));
	wire_put_len(buf, (uint32_t)len);
	cand__request__pack(req, buf + CAND_WIRE_HDR);
	ck_assert_int_eq(write(fd, buf, CAND_WIRE_HDR + len),
			 (ssize_t)(CAND_WIRE_HDR + len));
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		ck_assert_msg(poll(&pfd, 1, RX_TIMEOUT_MS) == 1, "no reply");
		n = read(fd, buf + got, sizeof(buf) - got);
		ck_assert_msg(n > 0, "the daemon closed the connection");
		got += (size_t)n;
		while (got >= CAND_WIRE_HDR &&
		       got >= CAND_WIRE_HDR + (mlen = wire_get_len(buf))) {
			m = cand__server_msg__unpack(NULL, mlen,
						     buf + CAND_WIRE_HDR);
			ck_assert_ptr_nonnull(m);
			memmove(buf, buf + CAND_WIRE_HDR + mlen,
				got - CAND_WIRE_HDR - mlen);
			got -= CAND_WIRE_HDR + mlen;
			if (m->msg_case == CAND__SERVER_MSG__MSG_REPLY) {
				status = m->reply->status;
				cand__server_msg__free_unpacked(m, NULL);
				return status;
			}
			cand__server_msg__free_unpacked(m, NULL);
		}
		ck_assert_msg(got < sizeof(buf), "a message over 4 KiB");
	}
}

/* A hand-made client: it can name ids libcand would never let it. */
static int wire_open(const char *channel)
{
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__OpenRequest open = CAND__OPEN_REQUEST__INIT;
	struct sockaddr_un sa;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", getenv("CAND_SOCKET"));
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
		      "connect: %s", strerror(errno));
	open.channel = (char *)channel;
	req.op_case = CAND__REQUEST__OP_OPEN;
	req.open = &open;
	ck_assert_int_eq(wire_status(fd, &req), CAND__STATUS__OK);
	return fd;
}

START_TEST(test_other_client_cannot_touch_tasks)
{
	cand_t *obs = util_open("vcan0");
	cand_t *a = util_open("vcan0");
	cand_t *b = util_open("vcan0");
	struct cand_frame fa = util_frame(0x560, 0, "AA");
	struct cand_frame fb = util_frame(0x561, 0, "BB"), got[3];
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__IdRef ref = CAND__ID_REF__INIT;
	Cand__TaskModifyRequest mod = CAND__TASK_MODIFY_REQUEST__INIT;
	Cand__Frame pf = CAND__FRAME__INIT, *pfp = &pf;
	struct cand_task_info *info;
	cand_task_t *ta, *tb;
	int w;

	ta = task_start(a, &fa, 1, 20 * MS, 0, 0);
	tb = task_start(b, &fb, 1, 20 * MS, 0, 0);
	/* Ids are per connection: the same number names different tasks. */
	ck_assert_uint_eq(cand_task_id(ta), cand_task_id(tb));
	ck_assert_int_eq(cand_task_stop(tb), 0);
	ck_assert_int_eq(cand_task_stop_all(b), 0);
	ck_assert_int_eq(cand_task_list(b, &info), 1);
	ck_assert_uint_eq(info[0].frames[0].id, 0x561);
	free(info);

	/* A third client naming a's id by hand finds nothing. */
	w = wire_open("vcan0");
	ref.id = cand_task_id(ta);
	req.op_case = CAND__REQUEST__OP_TASK_STOP;
	req.task_stop = &ref;
	ck_assert_int_eq(wire_status(w, &req), CAND__STATUS__INVALID_ARGUMENT);
	req.op_case = CAND__REQUEST__OP_TASK_REMOVE;
	req.task_remove = &ref;
	ck_assert_int_eq(wire_status(w, &req), CAND__STATUS__INVALID_ARGUMENT);
	pf.id = 0x560;
	pf.dlc = 1;
	pf.data.len = 1;
	pf.data.data = (uint8_t *)"\x66";
	mod.task_id = cand_task_id(ta);
	mod.n_frames = 1;
	mod.frames = &pfp;
	req.op_case = CAND__REQUEST__OP_TASK_MODIFY;
	req.task_modify = &mod;
	ck_assert_int_eq(wire_status(w, &req), CAND__STATUS__INVALID_ARGUMENT);
	close(w);

	drain_id(obs, 0x561, 100);
	ck_assert_uint_eq(collect_id(obs, 0x560, got, 3, RX_TIMEOUT_MS), 3);
	util_assert_frame(&got[2], &fa, "a's task, untouched");
	assert_silent(obs, 0x561, SETTLE_MS, "b's stopped task");
	cand_task_free(ta);
	cand_task_free(tb);
	cand_close(a);
	cand_close(b);
	cand_close(obs);
}
END_TEST

static int wait_can_sockets(int want, int ms)
{
	int64_t end = mono_ms() + ms;
	int n;

	while ((n = util_daemon_can_sockets()) != want && mono_ms() < end)
		util_msleep(10);
	return n;
}

/* The owner dies: the kernel stops its tasks when the daemon closes. */
static void killed_client_attempt(struct verdict *v)
{
	cand_t *obs = util_open("vcan0");
	struct cand_frame got;
	uint64_t killed;
	int base = util_daemon_can_sockets();
	int pfd[2], st, n;
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct cand_frame f[2] = {util_frame(0x570, 0, "01"),
					  util_frame(0x571, 0, "02")};
		struct cand_options o;
		cand_task_t *t;
		cand_t *h;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		cand_options_init(&o);
		o.channel = "vcan0";
		if (cand_connect(&h, NULL) != 0 || cand_open(h, &o) != 0 ||
		    cand_task_start(h, &f[0], 1, 10 * MS, 0, 0, &t) != 0 ||
		    cand_task_start(h, &f[1], 1, 10 * MS, 0, 0, &t) != 0)
			_exit(1);
		if (write(pfd[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	ck_assert_msg(read(pfd[0], &c, 1) == 1, "the child could not start "
						"its tasks");
	close(pfd[0]);
	ck_assert_uint_eq(collect_id(obs, 0x570, &got, 1, RX_TIMEOUT_MS), 1);
	ck_assert_uint_eq(collect_id(obs, 0x571, &got, 1, RX_TIMEOUT_MS), 1);
	killed = util_now_ns();
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	for (;;) {
		if (cand_recv(obs, &got, 500) != 1)
			break;
		if ((got.id == 0x570 || got.id == 0x571) &&
		    got.timestamp_ns >= killed + 100 * NS_PER_MS)
			verdict_fail(
				v, got.timestamp_ns - killed - 100 * NS_PER_MS,
				killed, got.timestamp_ns,
				"0x%x sent %.3f ms after the kill", got.id,
				(got.timestamp_ns - killed) / 1e6);
	}
	n = wait_can_sockets(base, 2000);
	ck_assert_msg(n == base,
		      "the daemon has %d CAN sockets, %d before the child", n,
		      base);
	cand_close(obs);
}

START_TEST(test_killed_client_stops_tasks)
{
	timing_attempts(killed_client_attempt, "killed client");
}
END_TEST

/* Freeing tasks and monitors, or closing, leaves no socket behind. */
START_TEST(test_sockets_released)
{
	int base = util_daemon_can_sockets(), n, i;
	cand_t *h = util_open("vcan0");
	struct cand_frame f = util_frame(0x572, 0, "01");
	struct cand_monitor_opts mo;
	cand_monitor_t *m[3];
	cand_task_t *t[3];

	cand_monitor_opts_init(&mo);
	mo.id = 0x573;
	for (i = 0; i < 3; i++) {
		t[i] = task_start(h, &f, 1, 100 * MS, 0, 0);
		ck_assert_int_eq(cand_monitor_start(h, &mo, &m[i]), 0);
	}
	n = util_daemon_can_sockets();
	ck_assert_msg(n == base + 7, "%d CAN sockets, want %d", n, base + 7);
	cand_task_free(t[0]);
	cand_monitor_free(m[0]);
	ck_assert_int_eq(util_daemon_can_sockets(), base + 5);
	cand_close(h);
	/* The remaining handles outlive the connection and just free. */
	cand_task_free(t[1]);
	cand_monitor_free(m[1]);
	n = wait_can_sockets(base, 2000);
	ck_assert_msg(n == base, "%d CAN sockets after close, want %d", n,
		      base);
	cand_task_free(t[2]);
	cand_monitor_free(m[2]);
}
END_TEST

void bcm_ownership_tests(TCase *tc)
{
	tcase_add_test(tc, test_other_client_cannot_touch_tasks);
	tcase_add_test(tc, test_killed_client_stops_tasks);
	tcase_add_test(tc, test_sockets_released);
}
