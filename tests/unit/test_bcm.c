/*
 * Periodic tasks and monitors without CAN: the period and duration rules,
 * duration text, and the requests a client without tasks can make.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "cand.h"
#include "timetext.h"
#include "unit.h"
#include "wire.h"

#define DAY_US (24ull * 60 * 60 * 1000000)

START_TEST(test_period_bounds)
{
	char detail[256];
	uint32_t count = 7;

	ck_assert_int_eq(bcmsock_timing(0, 0, &count, detail, sizeof(detail)),
			 -EINVAL);
	ck_assert_msg(strstr(detail, "period") != NULL, "detail: %s", detail);
	ck_assert_int_eq(bcmsock_timing(1, 0, &count, detail, sizeof(detail)),
			 0);
	ck_assert_uint_eq(count, 0);
	ck_assert_int_eq(
		bcmsock_timing(400 * DAY_US, 0, &count, detail, sizeof(detail)),
		0);
	ck_assert_int_eq(bcmsock_timing(400 * DAY_US + 1, 0, &count, detail,
					sizeof(detail)),
			 -EINVAL);
	ck_assert_msg(strstr(detail, "400 days") != NULL, "detail: %s", detail);
	ck_assert_int_eq(
		bcmsock_timing(UINT64_MAX, 0, &count, detail, sizeof(detail)),
		-EINVAL);
}
END_TEST

START_TEST(test_duration_count)
{
	char detail[256];
	uint32_t count;

	/* python-can: count = int(duration / period). */
	ck_assert_int_eq(
		bcmsock_timing(100000, 5000000, &count, detail, sizeof(detail)),
		0);
	ck_assert_uint_eq(count, 50);
	ck_assert_int_eq(
		bcmsock_timing(100000, 250000, &count, detail, sizeof(detail)),
		0);
	ck_assert_uint_eq(count, 2);
	ck_assert_int_eq(
		bcmsock_timing(100000, 100000, &count, detail, sizeof(detail)),
		0);
	ck_assert_uint_eq(count, 1);
	ck_assert_int_eq(
		bcmsock_timing(100000, 99999, &count, detail, sizeof(detail)),
		-EINVAL);
	ck_assert_msg(strstr(detail, "shorter") != NULL, "detail: %s", detail);
	ck_assert_int_eq(
		bcmsock_timing(1, UINT64_MAX, &count, detail, sizeof(detail)),
		-EINVAL);
}
END_TEST

static uint64_t parse_ok(const char *s)
{
	const char *why = NULL;
	uint64_t us = 0;

	ck_assert_msg(timetext_parse_us(s, &us, &why) == 0, "'%s': %s", s,
		      why ? why : "?");
	return us;
}

static void parse_bad(const char *s)
{
	const char *why = NULL;
	uint64_t us = 12345;

	ck_assert_msg(timetext_parse_us(s, &us, &why) == CAND_EINVAL,
		      "'%s' parsed as %llu us", s, (unsigned long long)us);
	ck_assert_ptr_nonnull(why);
	ck_assert_uint_eq(us, 12345);
}

START_TEST(test_timetext)
{
	ck_assert_uint_eq(parse_ok("100ms"), 100000);
	ck_assert_uint_eq(parse_ok("5s"), 5000000);
	ck_assert_uint_eq(parse_ok("250us"), 250);
	ck_assert_uint_eq(parse_ok("1.5s"), 1500000);
	ck_assert_uint_eq(parse_ok("0.5ms"), 500);
	ck_assert_uint_eq(parse_ok("2min"), 120000000);
	ck_assert_uint_eq(parse_ok("1h"), 3600000000u);
	ck_assert_uint_eq(parse_ok("0"), 0);
	ck_assert_uint_eq(parse_ok("20"), 20000); /* bare: milliseconds */
	ck_assert_uint_eq(parse_ok("0.000001s"), 1);
	ck_assert_uint_eq(parse_ok("1.0000000000s"), 1000000);
	parse_bad("");
	parse_bad("ms");
	parse_bad("-1s");
	parse_bad("1.s");
	parse_bad(".5s");
	parse_bad("1.5us");
	parse_bad("0.0000001s");
	parse_bad("10 ms");
	parse_bad("10days");
	parse_bad("99999999999999999999");
	parse_bad("18446744073709551615s");
}
END_TEST

START_TEST(test_start_needs_open_channel)
{
	struct harness h;
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__TaskStartRequest ts = CAND__TASK_START_REQUEST__INIT;
	Cand__MonitorStartRequest ms = CAND__MONITOR_START_REQUEST__INIT;
	Cand__ServerMsg *msg;

	harness_init(&h);
	ts.period_us = 1000;
	req.op_case = CAND__REQUEST__OP_TASK_START;
	req.task_start = &ts;
	msg = harness_request(&h, &req);
	ck_assert_int_eq(msg->reply->status, CAND__STATUS__NOT_OPEN);
	cand__server_msg__free_unpacked(msg, NULL);

	req.op_case = CAND__REQUEST__OP_MONITOR_START;
	req.monitor_start = &ms;
	msg = harness_request(&h, &req);
	ck_assert_int_eq(msg->reply->status, CAND__STATUS__NOT_OPEN);
	cand__server_msg__free_unpacked(msg, NULL);
	harness_free(&h);
}
END_TEST

START_TEST(test_unknown_ids_and_empty_list)
{
	struct harness h;
	Cand__Request req = CAND__REQUEST__INIT;
	Cand__IdRef ref = CAND__ID_REF__INIT;
	Cand__TaskListRequest tl = CAND__TASK_LIST_REQUEST__INIT;
	Cand__TaskStopAllRequest sa = CAND__TASK_STOP_ALL_REQUEST__INIT;
	Cand__ServerMsg *msg;

	harness_init(&h);
	ref.id = 3;
	req.op_case = CAND__REQUEST__OP_TASK_STOP;
	req.task_stop = &ref;
	msg = harness_request(&h, &req);
	ck_assert_int_eq(msg->reply->status, CAND__STATUS__INVALID_ARGUMENT);
	ck_assert_msg(strstr(msg->reply->detail, "no task 3") != NULL,
		      "detail: %s", msg->reply->detail);
	cand__server_msg__free_unpacked(msg, NULL);

	req.op_case = CAND__REQUEST__OP_MONITOR_STOP;
	req.monitor_stop = &ref;
	msg = harness_request(&h, &req);
	ck_assert_int_eq(msg->reply->status, CAND__STATUS__INVALID_ARGUMENT);
	ck_assert_msg(strstr(msg->reply->detail, "no monitor 3") != NULL,
		      "detail: %s", msg->reply->detail);
	cand__server_msg__free_unpacked(msg, NULL);

	req.op_case = CAND__REQUEST__OP_TASK_LIST;
	req.task_list = &tl;
	msg = harness_request(&h, &req);
	ck_assert_int_eq(msg->reply->status, CAND__STATUS__OK);
	ck_assert_int_eq(msg->reply->result_case, CAND__REPLY__RESULT_TASKS);
	ck_assert_uint_eq(msg->reply->tasks->n_tasks, 0);
	cand__server_msg__free_unpacked(msg, NULL);

	req.op_case = CAND__REQUEST__OP_TASK_STOP_ALL;
	req.task_stop_all = &sa;
	msg = harness_request(&h, &req);
	ck_assert_int_eq(msg->reply->status, CAND__STATUS__OK);
	cand__server_msg__free_unpacked(msg, NULL);
	harness_free(&h);
}
END_TEST

Suite *bcm_suite(void)
{
	Suite *s = suite_create("bcm");
	TCase *tc = tcase_create("bcm");

	tcase_add_test(tc, test_period_bounds);
	tcase_add_test(tc, test_duration_count);
	tcase_add_test(tc, test_timetext);
	tcase_add_test(tc, test_start_needs_open_channel);
	tcase_add_test(tc, test_unknown_ids_and_empty_list);
	suite_add_tcase(s, tc);
	return s;
}
