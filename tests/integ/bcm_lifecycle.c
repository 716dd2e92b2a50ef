/*
 * A task's life and limits: the starts cand refuses, stop_all, a duration
 * and the expiry event after it, stop and resume, a paused start, and the
 * task list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bcm.h"
#include "bcm_timing.h"

START_TEST(test_empty_mixed_and_too_many_are_errors)
{
	cand_t *obs = util_open("vcan0");
	cand_t *owner = util_open("vcan0");
	struct cand_frame f[257];
	cand_task_t *t = NULL;
	size_t i;
	int rc;

	for (i = 0; i < 257; i++)
		f[i] = util_frame(0x512, 0, "01");
	rc = cand_task_start(owner, f, 0, 20 * MS, 0, 0, &t);
	ck_assert_msg(rc == CAND_EINVAL, "empty list: %s", cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(owner), "frames") != NULL,
		      "empty list: detail '%s'", cand_last_detail(owner));
	ck_assert_ptr_null(t);

	f[1].id = 0x513;
	rc = cand_task_start(owner, f, 2, 20 * MS, 0, 0, &t);
	ck_assert_msg(rc == CAND_EINVAL, "mixed ids: %s", cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(owner), "one id") != NULL,
		      "mixed ids: detail '%s'", cand_last_detail(owner));
	f[1].id = 0x512;
	f[1].flags = CAND_FRAME_EXTENDED;
	rc = cand_task_start(owner, f, 2, 20 * MS, 0, 0, &t);
	ck_assert_msg(rc == CAND_EINVAL, "standard and extended: %s",
		      cand_strerror(rc));
	f[1].flags = 0;
	rc = cand_task_start(owner, f, 257, 20 * MS, 0, 0, &t);
	ck_assert_msg(rc == CAND_EINVAL, "257 frames: %s", cand_strerror(rc));
	rc = cand_task_start(owner, f, 256, 20 * MS, 0, 0, &t);
	ck_assert_msg(rc == 0, "256 frames: %s (%s)", cand_strerror(rc),
		      cand_last_detail(owner));
	cand_task_free(t);
	drain_id(obs, 0x512, 100);
	assert_silent(obs, 0x512, SETTLE_MS, "after the task was freed");
	ck_assert(util_daemon_alive());
	cand_close(owner);
	cand_close(obs);
}
END_TEST

START_TEST(test_bad_period_is_an_error)
{
	cand_t *owner = util_open("vcan0");
	struct cand_frame f = util_frame(0x514, 0, "01");
	cand_task_t *t = NULL;
	int rc;

	rc = cand_task_start(owner, &f, 1, 0, 0, 0, &t);
	ck_assert_msg(rc == CAND_EINVAL, "period 0: %s", cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(owner), "period") != NULL,
		      "period 0: detail '%s'", cand_last_detail(owner));
	rc = cand_task_start(owner, &f, 1, 400ull * 86400 * 1000000 + 1, 0, 0,
			     &t);
	ck_assert_msg(rc == CAND_EINVAL, "over 400 days: %s",
		      cand_strerror(rc));
	ck_assert_msg(strstr(cand_last_detail(owner), "400 days") != NULL,
		      "over 400 days: detail '%s'", cand_last_detail(owner));
	rc = cand_task_start(owner, &f, 1, 100 * MS, 50 * MS, 0, &t);
	ck_assert_msg(rc == CAND_EINVAL, "duration < period: %s",
		      cand_strerror(rc));
	ck_assert_ptr_null(t);
	/* The longest period is fine: one frame now, the next in 400 days. */
	rc = cand_task_start(owner, &f, 1, 400ull * 86400 * 1000000, 0, 0, &t);
	ck_assert_msg(rc == 0, "400 days: %s (%s)", cand_strerror(rc),
		      cand_last_detail(owner));
	cand_task_free(t);
	cand_close(owner);
}
END_TEST

START_TEST(test_stop_all_then_silence)
{
	cand_t *obs = util_open("vcan0");
	cand_t *owner = util_open("vcan0");
	struct cand_frame f[3], got;
	struct cand_task_info *info;
	cand_task_t *t[3];
	uint64_t stopped;
	int64_t end;
	int i, n, seen = 0, rc;

	for (i = 0; i < 3; i++) {
		f[i] = util_frame(0x540 + (uint32_t)i, 0, "5A");
		t[i] = task_start(owner, &f[i], 1, 20 * MS, 0, 0);
	}
	while (seen != 7) {
		ck_assert_msg(cand_recv(obs, &got, RX_TIMEOUT_MS) == 1,
			      "not every task was seen (mask %d)", seen);
		if (got.id >= 0x540 && got.id <= 0x542)
			seen |= 1 << (got.id - 0x540);
	}
	rc = cand_task_stop_all(owner);
	ck_assert_msg(rc == 0, "stop_all: %s", cand_strerror(rc));
	stopped = util_now_ns();
	/* In flight before the stop returned is fine; after it, nothing. */
	end = mono_ms() + 500;
	while (mono_ms() < end) {
		if (cand_recv(obs, &got, 50) != 1)
			continue;
		if (got.id >= 0x540 && got.id <= 0x542)
			ck_assert_msg(got.timestamp_ns <= stopped,
				      "0x%x sent %.3f ms after stop_all",
				      got.id,
				      (got.timestamp_ns - stopped) / 1e6);
	}
	/* Then silence. */
	end = mono_ms() + SETTLE_MS;
	while (mono_ms() < end)
		if (cand_recv(obs, &got, 50) == 1)
			ck_assert_msg(got.id < 0x540 || got.id > 0x542,
				      "0x%x still sent after stop_all", got.id);
	n = cand_task_list(owner, &info);
	ck_assert_int_eq(n, 3);
	for (i = 0; i < n; i++)
		ck_assert_msg(info[i].state == CAND_TASK_STOPPED,
			      "task %u state %d after stop_all", info[i].id,
			      info[i].state);
	free(info);
	for (i = 0; i < 3; i++)
		cand_task_free(t[i]);
	cand_close(owner);
	cand_close(obs);
}
END_TEST

/* The times of candump -L lines containing text: returns how many. */
static size_t candump_times(const char *out, const char *text, double *ts,
			    size_t max)
{
	const char *line = out;
	size_t n = 0;

	while (line != NULL && *line != '\0' && n < max) {
		const char *end = strchr(line, '\n');
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
		char buf[256];

		snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
		if (strstr(buf, text) != NULL &&
		    sscanf(buf, "(%lf)", &ts[n]) == 1)
			n++;
		line = end != NULL ? end + 1 : NULL;
	}
	return n;
}

/*
 * A duration ends on time: duration/period frames, last minus first under
 * duration + 50 ms (candump's times), then an expiry event for the owner
 * and the task shows as expired.
 */
static void duration_attempt(struct verdict *v)
{
	cand_t *owner = util_open("vcan0");
	struct cand_frame f = util_frame(0x551, 0, "D0D1");
	char *argv[] = {"candump", "-L", "vcan0,551:7FF", NULL};
	struct cand_task_info *info;
	struct util_proc p;
	struct cand_event ev;
	double ts[64];
	cand_task_t *t;
	char *out;
	size_t n;
	int rc;

	util_spawn_listener(&p, argv, "vcan0");
	t = task_start(owner, &f, 1, 20 * MS, 500 * MS, 0);
	rc = next_event(owner, &ev, 3000);
	ck_assert_msg(rc == 1, "no expiry event: %s", cand_strerror(rc));
	ck_assert_int_eq(ev.type, CAND_EVENT_TASK_EXPIRED);
	ck_assert_uint_eq(ev.id, cand_task_id(t));
	ck_assert_msg(ev.frame.timestamp_ns > 0, "expiry without a time");
	ck_assert_int_eq(cand_task_list(owner, &info), 1);
	ck_assert_int_eq(info[0].state, CAND_TASK_EXPIRED);
	ck_assert_uint_eq(info[0].duration_us, 500 * MS);
	free(info);

	util_msleep(SETTLE_MS);
	out = util_proc_finish(&p, 10, NULL);
	n = candump_times(out, "551#D0D1", ts, 64);
	ck_assert_msg(n == 25, "%zu frames for 500 ms at 20 ms, want 25:\n%s",
		      n, out);
	if (ts[n - 1] - ts[0] >= 0.550)
		verdict_fail(v, (uint64_t)((ts[n - 1] - ts[0] - 0.550) * 1e9),
			     (uint64_t)(ts[0] * 1e9),
			     (uint64_t)(ts[n - 1] * 1e9),
			     "last minus first is %.3f s for a 500 ms duration",
			     ts[n - 1] - ts[0]);
	free(out);
	cand_task_free(t);
	cand_close(owner);
}

START_TEST(test_duration_ends_on_time)
{
	timing_attempts(duration_attempt, "duration");
}
END_TEST

/* duration == period: one frame, and the kernel says nothing; we do. */
START_TEST(test_duration_of_one_period_expires)
{
	cand_t *obs = util_open("vcan0");
	cand_t *owner = util_open("vcan0");
	struct cand_frame f = util_frame(0x552, 0, "01"), got;
	struct cand_event ev;
	cand_task_t *t;
	int rc;

	t = task_start(owner, &f, 1, 100 * MS, 100 * MS, 0);
	rc = next_event(owner, &ev, RX_TIMEOUT_MS);
	ck_assert_msg(rc == 1 && ev.type == CAND_EVENT_TASK_EXPIRED &&
			      ev.id == cand_task_id(t),
		      "no expiry event for a one-frame task: rc %d type %d", rc,
		      ev.type);
	ck_assert_uint_eq(collect_id(obs, 0x552, &got, 1, RX_TIMEOUT_MS), 1);
	assert_silent(obs, 0x552, 300, "after the only frame");
	cand_task_free(t);
	cand_close(owner);
	cand_close(obs);
}
END_TEST

/* python-can test_start_already_started_task / stop then start. */
START_TEST(test_start_after_stop_resumes)
{
	cand_t *obs = util_open("vcan0");
	cand_t *owner = util_open("vcan0");
	struct cand_frame f[2] = {util_frame(0x553, 0, "01"),
				  util_frame(0x553, 0, "02")};
	struct cand_frame got[4];
	struct cand_task_info *info;
	cand_task_t *t;
	int rc;

	t = task_start(owner, f, 2, 20 * MS, 0, 0);
	ck_assert_uint_eq(collect_id(obs, 0x553, got, 3, RX_TIMEOUT_MS), 3);
	rc = cand_task_stop(t);
	ck_assert_msg(rc == 0, "stop: %s", cand_strerror(rc));
	drain_id(obs, 0x553, 100);
	assert_silent(obs, 0x553, SETTLE_MS, "stopped");
	ck_assert_int_eq(cand_task_list(owner, &info), 1);
	ck_assert_int_eq(info[0].state, CAND_TASK_STOPPED);
	free(info);

	rc = cand_task_resume(t);
	ck_assert_msg(rc == 0, "resume: %s (%s)", cand_strerror(rc),
		      cand_last_detail(owner));
	/* A fresh start: the first frame again, then on. */
	ck_assert_uint_eq(collect_id(obs, 0x553, got, 4, RX_TIMEOUT_MS), 4);
	util_assert_frame(&got[0], &f[0], "first frame after resume");
	util_assert_frame(&got[1], &f[1], "second frame after resume");
	/* Resuming a running task changes nothing; stopping twice is fine. */
	ck_assert_int_eq(cand_task_resume(t), 0);
	ck_assert_int_eq(cand_task_stop(t), 0);
	ck_assert_int_eq(cand_task_stop(t), 0);
	cand_task_free(t);
	cand_close(owner);
	cand_close(obs);
}
END_TEST

START_TEST(test_paused_and_list)
{
	cand_t *obs = util_open("vcan0");
	cand_t *owner = util_open("vcan0");
	struct cand_frame a[2] = {util_frame(0x554, 0, "A1"),
				  util_frame(0x554, 0, "A2")};
	struct cand_frame b = util_frame(0x555, 0, "B1"), got;
	struct cand_task_info *info;
	cand_task_t *ta, *tb;
	int i, n;

	ta = task_start(owner, a, 2, 30 * MS, 0, 0);
	tb = task_start(owner, &b, 1, 40 * MS, 0, CAND_TASK_PAUSED);
	assert_silent(obs, 0x555, SETTLE_MS, "a paused task");
	n = cand_task_list(owner, &info);
	ck_assert_int_eq(n, 2);
	for (i = 0; i < n; i++) {
		if (info[i].id == cand_task_id(ta)) {
			ck_assert_int_eq(info[i].state, CAND_TASK_RUNNING);
			ck_assert_uint_eq(info[i].period_us, 30 * MS);
			ck_assert_uint_eq(info[i].n_frames, 2);
			util_assert_frame(&info[i].frames[1], &a[1], "listed");
			ck_assert_str_eq(info[i].frames[0].ifname, "vcan0");
		} else {
			ck_assert_uint_eq(info[i].id, cand_task_id(tb));
			ck_assert_int_eq(info[i].state, CAND_TASK_STOPPED);
			ck_assert_uint_eq(info[i].period_us, 40 * MS);
		}
	}
	free(info);
	ck_assert_int_eq(cand_task_resume(tb), 0);
	ck_assert_uint_eq(collect_id(obs, 0x555, &got, 1, RX_TIMEOUT_MS), 1);
	util_assert_frame(&got, &b, "resumed paused task");
	cand_task_free(ta);
	cand_task_free(tb);
	ck_assert_int_eq(cand_task_list(owner, &info), 0);
	free(info);
	cand_close(owner);
	cand_close(obs);
}
END_TEST

void bcm_lifecycle_tests(TCase *tc)
{
	tcase_add_test(tc, test_empty_mixed_and_too_many_are_errors);
	tcase_add_test(tc, test_bad_period_is_an_error);
	tcase_add_test(tc, test_stop_all_then_silence);
	tcase_add_test(tc, test_duration_ends_on_time);
	tcase_add_test(tc, test_duration_of_one_period_expires);
	tcase_add_test(tc, test_start_after_stop_resumes);
	tcase_add_test(tc, test_paused_and_list);
}
