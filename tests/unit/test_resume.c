/*
 * libcand's side of a daemon restart without a socket: what makes a
 * handle away rather than dead, a refusal that is not a restart, and a
 * replay's replies as the reader takes them (new ids for the tasks and
 * monitors, the reconnected event in its place, a refusal killing the
 * handle). The socket side is tests/integ/restart.c.
 */
#include <stdlib.h>
#include <string.h>

#include "libcand_int.h"
#include "unit.h"
#include "wire.h"

#define RS_BUF 4096

struct rs_out {
	uint8_t buf[RS_BUF];
	size_t len;
};

static void rs_msg(struct rs_out *o, const Cand__ServerMsg *m)
{
	size_t n = cand__server_msg__get_packed_size(m);

	ck_assert_uint_le(o->len + CAND_WIRE_HDR + n, sizeof(o->buf));
	wire_put_len(o->buf + o->len, (uint32_t)n);
	cand__server_msg__pack(m, o->buf + o->len + CAND_WIRE_HDR);
	o->len += CAND_WIRE_HDR + n;
}

/* A Reply: status, and a created id unless 0. */
static void rs_reply(struct rs_out *o, uint32_t id, Cand__Status status,
		     uint32_t created, const char *detail)
{
	Cand__ServerMsg m = CAND__SERVER_MSG__INIT;
	Cand__Reply r = CAND__REPLY__INIT;
	Cand__CreatedReply c = CAND__CREATED_REPLY__INIT;

	r.id = id;
	r.status = status;
	r.detail = (char *)detail;
	if (created != 0) {
		c.id = created;
		r.result_case = CAND__REPLY__RESULT_CREATED;
		r.created = &c;
	}
	m.msg_case = CAND__SERVER_MSG__MSG_REPLY;
	m.reply = &r;
	rs_msg(o, &m);
}

static void rs_shutdown(struct rs_out *o)
{
	Cand__ServerMsg m = CAND__SERVER_MSG__INIT;
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__ShutdownEvent se = CAND__SHUTDOWN_EVENT__INIT;

	se.detail = (char *)"cand is shutting down";
	ev.ev_case = CAND__EVENT__EV_SHUTDOWN;
	ev.shutdown = &se;
	m.msg_case = CAND__SERVER_MSG__MSG_EVENT;
	m.event = &ev;
	rs_msg(o, &m);
}

static void rs_task_event(struct rs_out *o, uint32_t task_id)
{
	Cand__ServerMsg m = CAND__SERVER_MSG__INIT;
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__TaskEvent te = CAND__TASK_EVENT__INIT;

	te.task_id = task_id;
	ev.ev_case = CAND__EVENT__EV_TASK;
	ev.task = &te;
	m.msg_case = CAND__SERVER_MSG__MSG_EVENT;
	m.event = &ev;
	rs_msg(o, &m);
}

/* A handle as cand_connect_opts() leaves it, reconnecting for 1 s. */
static struct cand *rs_handle(void)
{
	struct cand *h = libcand_conn_new();

	ck_assert_ptr_nonnull(h);
	h->reconnect_ms = 1000;
	return h;
}

START_TEST(test_shutdown_is_away_not_dead)
{
	struct cand *h = rs_handle();
	struct rs_out o = {.len = 0};

	rs_shutdown(&o);
	ck_assert_int_eq(libcand_read_feed(h, o.buf, o.len), 0);
	ck_assert_int_eq(h->dead, 0);
	ck_assert_int_eq(h->lost, CAND_ESHUTDOWN);
	ck_assert(h->lost_shutdown);
	ck_assert_uint_gt(h->lost_ns, 0);
	/* The EOF that follows keeps the reason. */
	ck_assert_int_eq(libcand_err_lost(h, CAND_EDISCONNECTED, "EOF"), 0);
	ck_assert_int_eq(h->lost, CAND_ESHUTDOWN);
	cand_close(h);

	/* Turned off, the same event kills, as it always did. */
	h = rs_handle();
	h->reconnect_ms = 0;
	ck_assert_int_eq(libcand_read_feed(h, o.buf, o.len), CAND_ESHUTDOWN);
	ck_assert_int_eq(h->lost, 0);
	cand_close(h);
}
END_TEST

START_TEST(test_refusal_is_not_a_restart)
{
	struct cand *h = rs_handle();
	struct rs_out o = {.len = 0};

	rs_reply(&o, 0, CAND__STATUS__LIMIT_EXCEEDED, 0,
		 "cand serves at most 1 clients (max_clients)");
	ck_assert_int_eq(libcand_read_feed(h, o.buf, o.len), 0);
	ck_assert_int_eq(libcand_err_lost(h, CAND_EDISCONNECTED, "EOF"),
			 CAND_ELIMIT);
	ck_assert_int_eq(h->dead, CAND_ELIMIT);
	ck_assert_str_eq(cand_last_detail(h),
			 "cand serves at most 1 clients (max_clients)");
	cand_close(h);

	/* A message after it means the connection lived on. */
	h = rs_handle();
	o.len = 0;
	rs_reply(&o, 0, CAND__STATUS__BAD_MESSAGE, 0, "undecodable");
	rs_task_event(&o, 1);
	ck_assert_int_eq(libcand_read_feed(h, o.buf, o.len), 0);
	ck_assert_int_eq(libcand_err_lost(h, CAND_EDISCONNECTED, "EOF"), 0);
	ck_assert_int_eq(h->lost, CAND_EDISCONNECTED);
	cand_close(h);
}
END_TEST

/* h as a replay of open, a task and a monitor left it, awaiting replies. */
static void rs_replaying(struct cand *h, struct cand_ref *t, struct cand_ref *m)
{
	struct cand_replay_step *st = calloc(3, sizeof(*st));

	ck_assert_ptr_nonnull(st);
	memset(t, 0, sizeof(*t));
	memset(m, 0, sizeof(*m));
	t->h = m->h = h;
	t->kind = CAND_REF_TASK;
	m->kind = CAND_REF_MONITOR;
	t->id = t->wire_id = 1;
	m->id = m->wire_id = 2;
	t->next = m;
	h->refs = t;
	h->gen = 2; /* the new connection; the refs were on the first */
	st[0] = (struct cand_replay_step){10, CAND__REQUEST__OP_OPEN, NULL};
	st[1] = (struct cand_replay_step){11, CAND__REQUEST__OP_TASK_START, t};
	st[2] = (struct cand_replay_step){12, CAND__REQUEST__OP_MONITOR_START,
					  m};
	h->replay = st;
	h->n_replay = 3;
	h->lost_mono_ns = libcand_clock_ns(CLOCK_MONOTONIC) - 250000000u;
	h->lost_shutdown = 1;
}

START_TEST(test_replay_replies)
{
	struct cand *h = rs_handle();
	struct cand_ref t, m;
	struct cand_event ev;
	struct rs_out o = {.len = 0};

	rs_replaying(h, &t, &m);
	rs_reply(&o, 10, CAND__STATUS__OK, 0, NULL);
	/* The new daemon numbers them its own way. */
	rs_reply(&o, 11, CAND__STATUS__OK, 7, NULL);
	rs_reply(&o, 12, CAND__STATUS__OK, 8, NULL);
	rs_task_event(&o, 7);
	ck_assert_int_eq(libcand_read_feed(h, o.buf, o.len), 0);
	ck_assert_uint_eq(h->n_replay, 0);
	ck_assert_uint_eq(h->lost_mono_ns, 0);
	ck_assert_uint_eq(t.wire_id, 7);
	ck_assert_uint_eq(m.wire_id, 8);
	ck_assert_uint_eq(t.gen, 2);
	ck_assert_uint_eq(m.gen, 2);

	ck_assert_int_eq(libcand_queue_pop(h, &ev), 1);
	ck_assert_int_eq(ev.type, CAND_EVENT_RECONNECTED);
	ck_assert(ev.reconnect.shutdown);
	ck_assert_uint_ge(ev.reconnect.gap_ns, 250000000u);
	ck_assert_ptr_nonnull(strstr(ev.detail, "reconnected"));
	/* The daemon's id 7 is the application's task 1. */
	ck_assert_int_eq(libcand_queue_pop(h, &ev), 1);
	ck_assert_int_eq(ev.type, CAND_EVENT_TASK_EXPIRED);
	ck_assert_uint_eq(ev.id, 1);
	ck_assert_int_eq(t.state, CAND_TASK_EXPIRED);
	h->refs = NULL;
	cand_close(h);
}
END_TEST

START_TEST(test_replay_refused)
{
	struct cand *h = rs_handle();
	struct cand_ref t, m;
	struct cand_frame f;
	struct rs_out o = {.len = 0};

	rs_replaying(h, &t, &m);
	rs_reply(&o, 10, CAND__STATUS__OK, 0, NULL);
	rs_reply(&o, 11, CAND__STATUS__PERMISSION_DENIED, 0,
		 "uid 4242 lacks the 'periodic' right on vcan0");
	ck_assert_int_eq(libcand_read_feed(h, o.buf, o.len), CAND_EPERM);
	ck_assert_ptr_nonnull(
		strstr(cand_last_detail(h), "re-creating task 1"));
	ck_assert_ptr_nonnull(strstr(cand_last_detail(h), "'periodic' right"));
	/* Told once it was back, then that it is dead. */
	ck_assert_int_eq(libcand_queue_pop_frame(h, &f), CAND_ERECONNECTED);
	ck_assert_int_eq(libcand_queue_pop_frame(h, &f), 0);
	ck_assert_int_eq(h->dead, CAND_EPERM);
	h->refs = NULL;
	cand_close(h);
}
END_TEST

Suite *resume_suite(void)
{
	Suite *s = suite_create("resume");
	TCase *tc = tcase_create("resume");

	tcase_add_test(tc, test_shutdown_is_away_not_dead);
	tcase_add_test(tc, test_refusal_is_not_a_restart);
	tcase_add_test(tc, test_replay_replies);
	tcase_add_test(tc, test_replay_refused);
	suite_add_tcase(s, tc);
	return s;
}
