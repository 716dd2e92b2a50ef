/*
 * Periodic tasks: what a task sends and when, as python-can's cyclic-send
 * tests expect it: a list cycled in order, the period kept, data modified
 * in flight without moving the timing, CAN FD frames, and the "" channel.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bcm.h"
#include "bcm_timing.h"

/*
 * Every gap between consecutive kernel timestamps is period +- pct %. A
 * stall makes one gap longer, or (a late stamp) the next one shorter, by
 * at most its length.
 */
static void check_gaps(struct verdict *v, const struct cand_frame *f, size_t n,
		       uint64_t period_us, unsigned pct, const char *what)
{
	uint64_t period = period_us * 1000, tol = period * pct / 100;
	size_t i;

	for (i = 1; i < n; i++) {
		uint64_t gap = f[i].timestamp_ns - f[i - 1].timestamp_ns;
		uint64_t off = gap > period ? gap - period : period - gap;

		ck_assert_msg(f[i].timestamp_ns > 0, "%s: no timestamp", what);
		if (off > tol)
			verdict_fail(v, off - tol,
				     f[gap > period || i < 2 ? i - 1 : i - 2]
					     .timestamp_ns,
				     f[i].timestamp_ns,
				     "%s: frames %zu and %zu are %.3f ms "
				     "apart, want %.3f ms +- %u%%",
				     what, i - 1, i, gap / 1e6, period_us / 1e3,
				     pct);
	}
}

/* python-can test_cycle_through_list: 10 frames cycle 5 messages in order. */
START_TEST(test_list_of_five_cycles_in_order)
{
	cand_t *obs = util_open("vcan0");
	cand_t *owner = util_open("vcan0");
	struct cand_frame f[5], got[10];
	cand_task_t *t;
	char what[32];
	size_t i, n;

	for (i = 0; i < 5; i++) {
		f[i] = util_frame(0x510, 0, "00112233");
		f[i].data[0] = (uint8_t)i;
	}
	t = task_start(owner, f, 5, 20 * MS, 0, 0);
	n = collect_id(obs, 0x510, got, 10, RX_TIMEOUT_MS);
	ck_assert_uint_eq(n, 10);
	for (i = 0; i < 10; i++) {
		snprintf(what, sizeof(what), "frame %zu", i);
		util_assert_frame(&got[i], &f[i % 5], what);
	}
	cand_task_free(t);
	cand_close(owner);
	cand_close(obs);
}
END_TEST

/* python-can test_cycle_time: it keeps sending, period after period. */
static void single_message_attempt(struct verdict *v)
{
	cand_t *obs = util_open("vcan0");
	cand_t *owner = util_open("vcan0");
	struct cand_frame f = util_frame(0x511, 0, "0102030405060708"), got;
	uint64_t first = 0;
	cand_task_t *t;
	size_t n = 0;

	t = task_start(owner, &f, 1, 50 * MS, 0, 0);
	/* Frames stamped within one second: 20 at 50 ms, +- 20 %. */
	for (;;) {
		ck_assert_msg(collect_id(obs, 0x511, &got, 1, RX_TIMEOUT_MS) ==
				      1,
			      "the task stopped after %zu frames", n);
		util_assert_frame(&got, &f, "periodic frame");
		if (first == 0)
			first = got.timestamp_ns;
		if (got.timestamp_ns - first >= 1000 * NS_PER_MS)
			break;
		n++;
	}
	if (n < 16 || n > 24)
		verdict_fail(v,
			     n > 24 ? NEED_NO_STALL
				    : (16 - n) * 50 * (uint64_t)NS_PER_MS,
			     first, got.timestamp_ns,
			     "%zu frames in one second at a 50 ms period", n);
	cand_task_free(t);
	cand_close(owner);
	cand_close(obs);
}

START_TEST(test_single_message_keeps_sending)
{
	timing_attempts(single_message_attempt, "single message");
}
END_TEST

/* Each task has its own BCM socket, so tasks may share a CAN id. */
START_TEST(test_two_tasks_same_id_both_seen)
{
	cand_t *obs = util_open("vcan0");
	cand_t *owner = util_open("vcan0");
	struct cand_frame a = util_frame(0x520, 0, "AAAA");
	struct cand_frame b = util_frame(0x520, 0, "BBBB");
	struct cand_frame got[20];
	cand_task_t *ta, *tb;
	size_t i, n, na = 0, nb = 0;

	ta = task_start(owner, &a, 1, 20 * MS, 0, 0);
	tb = task_start(owner, &b, 1, 20 * MS, 0, 0);
	ck_assert_uint_ne(cand_task_id(ta), cand_task_id(tb));
	n = collect_id(obs, 0x520, got, 20, RX_TIMEOUT_MS);
	ck_assert_uint_eq(n, 20);
	for (i = 0; i < n; i++) {
		na += util_frame_eq(&got[i], &a);
		nb += util_frame_eq(&got[i], &b);
	}
	ck_assert_msg(na >= 5 && nb >= 5 && na + nb == n,
		      "of %zu frames %zu were AAAA and %zu BBBB", n, na, nb);
	cand_task_free(ta);
	cand_task_free(tb);
	cand_close(owner);
	cand_close(obs);
}
END_TEST

/*
 * python-can test_modify_data_list: new data takes over at the next
 * frame, the cycle goes on where it was, and the timing does not move.
 */
static void modify_list_attempt(struct verdict *v)
{
	cand_t *obs = util_open("vcan0");
	cand_t *owner = util_open("vcan0");
	struct cand_frame f[3], g[3], got[12];
	cand_task_t *t;
	size_t i, n, k;
	int rc;

	for (i = 0; i < 3; i++) {
		f[i] = util_frame(0x530, 0, "00");
		f[i].data[0] = (uint8_t)(0x01 + i);
		g[i] = f[i];
		g[i].data[0] = (uint8_t)(0x11 + i);
	}
	t = task_start(owner, f, 3, 100 * MS, 0, 0);
	n = collect_id(obs, 0x530, got, 4, RX_TIMEOUT_MS);
	ck_assert_uint_eq(n, 4);
	rc = cand_task_modify(t, g, 3);
	ck_assert_msg(rc == 0, "modify: %s (%s)", cand_strerror(rc),
		      cand_last_detail(owner));
	n += collect_id(obs, 0x530, got + 4, 8, RX_TIMEOUT_MS);
	ck_assert_uint_eq(n, 12);
	/* Old data, then new, never back; the cycle index runs on. */
	for (k = 4; k < n && got[k].data[0] < 0x10; k++)
		;
	ck_assert_msg(k < n, "the new data never came");
	for (i = 0; i < n; i++) {
		const struct cand_frame *want = i < k ? f : g;

		util_assert_frame(&got[i], &want[i % 3], "cycle across modify");
	}
	check_gaps(v, got, n, 100 * MS, 10, "modify_data (list)");

	/* A wrong count or id is refused, and the task goes on as it was. */
	rc = cand_task_modify(t, g, 2);
	ck_assert_msg(rc == CAND_EINVAL, "2 frames for 3: %s",
		      cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(owner), "same number") != NULL,
		      "count: detail '%s'", cand_last_detail(owner));
	for (i = 0; i < 3; i++)
		f[i].id = 0x531;
	rc = cand_task_modify(t, f, 3);
	ck_assert_msg(rc == CAND_EINVAL, "another id: %s", cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(owner), "cannot change") != NULL,
		      "id: detail '%s'", cand_last_detail(owner));
	ck_assert_uint_eq(collect_id(obs, 0x530, got, 3, RX_TIMEOUT_MS), 3);
	for (i = 0; i < 3; i++)
		ck_assert_msg(got[i].data[0] >= 0x11 && got[i].data[0] <= 0x13,
			      "after refused modifications: data %02X",
			      got[i].data[0]);
	cand_task_free(t);
	cand_close(owner);
	cand_close(obs);
}

START_TEST(test_modify_list_keeps_timing_and_cycle)
{
	timing_attempts(modify_list_attempt, "modify_data (list)");
}
END_TEST

/* python-can test_modify_data_message: the same with a single frame. */
static void modify_single_attempt(struct verdict *v)
{
	cand_t *obs = util_open("vcan0");
	cand_t *owner = util_open("vcan0");
	struct cand_frame f = util_frame(0x532, 0, "0102");
	struct cand_frame g = util_frame(0x532, 0, "0A0B0C");
	struct cand_frame got[10];
	cand_task_t *t;
	size_t i, n, k;
	int rc;

	t = task_start(owner, &f, 1, 100 * MS, 0, 0);
	n = collect_id(obs, 0x532, got, 4, RX_TIMEOUT_MS);
	ck_assert_uint_eq(n, 4);
	rc = cand_task_modify(t, &g, 1);
	ck_assert_msg(rc == 0, "modify: %s (%s)", cand_strerror(rc),
		      cand_last_detail(owner));
	n += collect_id(obs, 0x532, got + 4, 6, RX_TIMEOUT_MS);
	ck_assert_uint_eq(n, 10);
	for (k = 4; k < n && util_frame_eq(&got[k], &f); k++)
		;
	ck_assert_msg(k < n, "the new data never came");
	for (i = k; i < n; i++)
		util_assert_frame(&got[i], &g, "after modify");
	check_gaps(v, got, n, 100 * MS, 10, "modify_data (single)");
	cand_task_free(t);
	cand_close(owner);
	cand_close(obs);
}

START_TEST(test_modify_single_keeps_timing)
{
	timing_attempts(modify_single_attempt, "modify_data (single)");
}
END_TEST

START_TEST(test_fd_task)
{
	cand_t *obs = util_open_fd("vcan0");
	cand_t *owner = util_open_fd("vcan0");
	cand_t *classic = util_open("vcan0");
	struct cand_frame f = util_frame(0x556, CAND_FRAME_FD | CAND_FRAME_BRS,
					 "000102030405060708090A0B");
	struct cand_frame got[3];
	cand_task_t *t = NULL;
	int rc;

	t = task_start(owner, &f, 1, 20 * MS, 0, 0);
	ck_assert_uint_eq(collect_id(obs, 0x556, got, 3, RX_TIMEOUT_MS), 3);
	util_assert_frame(&got[2], &f, "FD periodic frame");
	cand_task_free(t);
	t = NULL;
	rc = cand_task_start(classic, &f, 1, 20 * MS, 0, 0, &t);
	ck_assert_msg(rc == CAND_EUNSUPP, "FD task on a channel without fd: %s",
		      cand_strerror(rc));
	cand_close(classic);
	/* vcan1 is classic (mtu 16): refused, not silently dropped. */
	classic = util_open_fd("vcan1");
	rc = cand_task_start(classic, &f, 1, 20 * MS, 0, 0, &t);
	ck_assert_msg(rc == CAND_EUNSUPP, "FD task on vcan1: %s",
		      cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(classic), "not CAN FD") != NULL,
		      "detail '%s'", cand_last_detail(classic));
	ck_assert_ptr_null(t);
	cand_close(classic);
	cand_close(owner);
	cand_close(obs);
}
END_TEST

/* python-can sends "" channel tasks on ifindex 0 and gets ENODEV. */
START_TEST(test_any_channel_task_names_interface)
{
	cand_t *owner = util_open("");
	int s1 = util_raw_open("vcan1", 0);
	struct cand_frame f = util_frame(0x557, 0, "C0FFEE"), got;
	cand_task_t *t = NULL;
	int rc;

	rc = cand_task_start(owner, &f, 1, 20 * MS, 0, 0, &t);
	ck_assert_msg(rc == CAND_EINVAL, "no ifname on \"\": %s",
		      cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(owner), "interface") != NULL,
		      "detail '%s'", cand_last_detail(owner));
	snprintf(f.ifname, sizeof(f.ifname), "nosuchcan9");
	rc = cand_task_start(owner, &f, 1, 20 * MS, 0, 0, &t);
	ck_assert_msg(rc == CAND_ENODEV, "unknown interface: %s",
		      cand_strerror(rc));
	snprintf(f.ifname, sizeof(f.ifname), "vcan1");
	t = task_start(owner, &f, 1, 20 * MS, 0, 0);
	util_raw_recv_ok(s1, &got, "task frame on vcan1");
	util_assert_frame(&got, &f, "task frame on vcan1");
	cand_task_free(t);
	close(s1);
	cand_close(owner);
}
END_TEST

void bcm_periodic_tests(TCase *tc)
{
	tcase_add_test(tc, test_list_of_five_cycles_in_order);
	tcase_add_test(tc, test_single_message_keeps_sending);
	tcase_add_test(tc, test_two_tasks_same_id_both_seen);
	tcase_add_test(tc, test_modify_list_keeps_timing_and_cycle);
	tcase_add_test(tc, test_modify_single_keeps_timing);
	tcase_add_test(tc, test_fd_task);
	tcase_add_test(tc, test_any_channel_task_names_interface);
}
