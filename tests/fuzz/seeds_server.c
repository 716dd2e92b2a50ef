/*
 * The reader target's seeds (corpus/reader): what a daemon sends, every
 * kind of reply and event, behind fuzz_reader.c's first byte that picks
 * the call waiting for it. seeds.c has the rest and main().
 */
#include <stdio.h>
#include <string.h>

#include "framepack.h"
#include "seeds.h"

static void seeds_server_reply(struct seeds_out *o, Cand__Reply *rep)
{
	Cand__ServerMsg m = CAND__SERVER_MSG__INIT;

	m.msg_case = CAND__SERVER_MSG__MSG_REPLY;
	m.reply = rep;
	seeds_msg(o, &m.base);
}

static void seeds_server_event(struct seeds_out *o, Cand__Event *ev)
{
	Cand__ServerMsg m = CAND__SERVER_MSG__INIT;

	m.msg_case = CAND__SERVER_MSG__MSG_EVENT;
	m.event = ev;
	seeds_msg(o, &m.base);
}

static void seeds_server_batch(struct seeds_out *o)
{
	static const uint8_t data[64] = {0x11, 0x22, 0x33, 0x44};
	static char *names[] = {(char *)"vcan0", (char *)"can1"};
	struct framepack_rec r[4] = {
		{0x123, 4, 0, 0, 1000000000u, data},
		{0x1abcdef | FRAMEPACK_EFF | FRAMEPACK_RTR, 2, 0, 1,
		 2000000000u, NULL},
		{0x7ff, 64, FRAMEPACK_FD | FRAMEPACK_BRS | FRAMEPACK_OWN, 0,
		 3000000000u, data},
		{0x4 | FRAMEPACK_ERR, 8, 0, 1, 4000000000u, data},
	};
	uint8_t packed[4 * FRAMEPACK_MAX];
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__FrameBatch b = CAND__FRAME_BATCH__INIT;
	size_t i, len = 0;

	for (i = 0; i < 4; i++)
		len += framepack_put(packed + len, &r[i]);
	b.format = FRAMEPACK_FORMAT;
	b.count = 4;
	b.packed.data = packed;
	b.packed.len = len;
	b.n_ifnames = 2;
	b.ifnames = names;
	b.kernel_drops = 3;
	ev.ev_case = CAND__EVENT__EV_FRAMES;
	ev.frames = &b;
	seeds_server_event(o, &ev);
}

/* One of each event that is not frames, the frames around them. */
static void seeds_server_events(struct seeds_out *o)
{
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__LinkEvent le = CAND__LINK_EVENT__INIT;
	Cand__StateEvent se = CAND__STATE_EVENT__INIT;
	Cand__ConfigEvent ce = CAND__CONFIG_EVENT__INIT;
	Cand__BusConfig bc = CAND__BUS_CONFIG__INIT;
	Cand__DropEvent de = CAND__DROP_EVENT__INIT;
	Cand__TaskEvent te = CAND__TASK_EVENT__INIT;
	Cand__MonitorEvent me = CAND__MONITOR_EVENT__INIT;
	Cand__RightsEvent re = CAND__RIGHTS_EVENT__INIT;
	Cand__Frame f = CAND__FRAME__INIT;
	static char *revoked[] = {(char *)"read", (char *)"send"};

	seeds_server_batch(o);
	le.ifname = (char *)"vcan0";
	le.status = CAND__STATUS__NETWORK_DOWN;
	le.detail = (char *)"vcan0 is down";
	le.ifindex = 3;
	ev.ev_case = CAND__EVENT__EV_LINK;
	ev.link = &le;
	seeds_server_event(o, &ev);
	se.ifname = (char *)"can1";
	se.state = CAND__CAN_STATE__STATE_BUS_OFF;
	se.previous = CAND__CAN_STATE__STATE_ERROR_PASSIVE;
	se.has_error_counters = 1;
	se.tx_errors = 256;
	ev.ev_case = CAND__EVENT__EV_STATE;
	ev.state = &se;
	seeds_server_event(o, &ev);
	bc.bitrate = 500000;
	bc.sample_point = 875;
	ce.ifname = (char *)"can1";
	ce.config = ce.previous = &bc;
	ce.mtu = 16;
	ev.ev_case = CAND__EVENT__EV_CONFIG;
	ev.config = &ce;
	seeds_server_event(o, &ev);
	de.kernel_drops = 10;
	de.dropped = 4;
	de.slow_reader = 1;
	ev.ev_case = CAND__EVENT__EV_DROPS;
	ev.drops = &de;
	seeds_server_event(o, &ev);
	seeds_server_batch(o);
	te.task_id = 1;
	te.timestamp_ns = 5000000000u;
	ev.ev_case = CAND__EVENT__EV_TASK;
	ev.task = &te;
	seeds_server_event(o, &ev);
	f.id = 0x123;
	f.ifname = (char *)"vcan0";
	me.monitor_id = 2;
	me.frame = &f;
	ev.ev_case = CAND__EVENT__EV_MONITOR;
	ev.monitor = &me;
	seeds_server_event(o, &ev);
	me.kind = CAND__MONITOR_EVENT_KIND__MONITOR_TIMEOUT;
	me.frame = NULL;
	seeds_server_event(o, &ev);
	re.status = CAND__STATUS__PERMISSION_DENIED;
	re.n_revoked = 2;
	re.revoked = revoked;
	ev.ev_case = CAND__EVENT__EV_RIGHTS;
	ev.rights = &re;
	seeds_server_event(o, &ev);
}

static void seeds_server_shutdown(struct seeds_out *o)
{
	Cand__Event ev = CAND__EVENT__INIT;
	Cand__ShutdownEvent sd = CAND__SHUTDOWN_EVENT__INIT;

	sd.detail = (char *)"cand is shutting down";
	ev.ev_case = CAND__EVENT__EV_SHUTDOWN;
	ev.shutdown = &sd;
	seeds_server_event(o, &ev);
}

static void seeds_server_mode(struct seeds_out *o, uint8_t mode)
{
	seeds_raw(o, &mode, 1);
}

/* The reply to call (fuzz_reader.c's numbering) with its result. */
static void seeds_server_answer(struct seeds_out *o, uint8_t call)
{
	Cand__Reply rep = CAND__REPLY__INIT;
	Cand__Interface ifs[2] = {CAND__INTERFACE__INIT, CAND__INTERFACE__INIT};
	Cand__Interface *ifp[2] = {&ifs[0], &ifs[1]};
	Cand__ListReply list = CAND__LIST_REPLY__INIT;
	Cand__InterfaceState st = CAND__INTERFACE_STATE__INIT;
	Cand__InterfaceState *stp = &st;
	Cand__StateReply state = CAND__STATE_REPLY__INIT;
	Cand__BusConfig bc = CAND__BUS_CONFIG__INIT;
	Cand__DeviceStats ds = CAND__DEVICE_STATS__INIT;
	Cand__LinkStats ls = CAND__LINK_STATS__INIT;
	Cand__TaskInfo ti = CAND__TASK_INFO__INIT;
	Cand__TaskInfo *tip = &ti;
	Cand__TaskListReply tasks = CAND__TASK_LIST_REPLY__INIT;
	Cand__ConfigureReply conf = CAND__CONFIGURE_REPLY__INIT;
	Cand__FlushTxReply flush = CAND__FLUSH_TX_REPLY__INIT;
	Cand__CreatedReply created = CAND__CREATED_REPLY__INIT;
	Cand__SendReply sent = CAND__SEND_REPLY__INIT;
	Cand__Frame f[2], *fp[2];

	rep.id = 1;
	ifs[0].name = (char *)"vcan0";
	ifs[0].kind = (char *)"vcan";
	ifs[0].mtu = 72;
	ifs[0].up = 1;
	ifs[1].name = (char *)"can1";
	ifs[1].kind = (char *)"can";
	ifs[1].type = CAND__IFACE_TYPE__HARDWARE;
	bc.bitrate = 500000;
	st.link = &ifs[1];
	st.state = CAND__CAN_STATE__STATE_ERROR_WARNING;
	st.config = &bc;
	st.device_stats = &ds;
	st.link_stats = &ls;
	st.busoff_policy = (char *)"cand restarts it after 100 ms";
	seeds_frames(f, fp, 2, "vcan0");
	ti.task_id = 1;
	ti.period_us = 100000;
	ti.n_frames = 2;
	ti.frames = fp;
	conf.cycled = 1;
	conf.config = &bc;
	flush.note = (char *)"nothing was pending";
	created.id = 7;
	sent.sent = 2;
	switch (call) {
	case 1:
		list.n_interfaces = 2;
		list.interfaces = ifp;
		rep.result_case = CAND__REPLY__RESULT_LIST;
		rep.list = &list;
		break;
	case 2:
		state.n_interfaces = 1;
		state.interfaces = &stp;
		rep.result_case = CAND__REPLY__RESULT_STATE;
		rep.state = &state;
		break;
	case 3:
		tasks.n_tasks = 1;
		tasks.tasks = &tip;
		rep.result_case = CAND__REPLY__RESULT_TASKS;
		rep.tasks = &tasks;
		break;
	case 4:
		rep.result_case = CAND__REPLY__RESULT_CONFIGURE;
		rep.configure = &conf;
		break;
	case 5:
		rep.result_case = CAND__REPLY__RESULT_FLUSH_TX;
		rep.flush_tx = &flush;
		break;
	case 7:
	case 8:
		rep.result_case = CAND__REPLY__RESULT_CREATED;
		rep.created = &created;
		break;
	case 9:
		rep.result_case = CAND__REPLY__RESULT_SEND;
		rep.send = &sent;
		break;
	}
	seeds_server_reply(o, &rep);
}

void seeds_server_all(struct seeds_out *o)
{
	static const char *calls[] = {
		"",	    "list", "state",	  "task-list",	   "configure",
		"flush-tx", "open", "task-start", "monitor-start", "send"};
	Cand__Reply denied = CAND__REPLY__INIT;
	char name[64];
	uint8_t call;

	seeds_server_mode(o, 0);
	seeds_server_events(o);
	seeds_write("reader", "events", o);
	seeds_server_mode(o, 0x82); /* 130: fed, channel vcan0 */
	seeds_server_events(o);
	seeds_server_shutdown(o);
	seeds_server_batch(o);
	seeds_write("reader", "events-vcan0-shutdown", o);
	for (call = 1; call < 10; call++) {
		seeds_server_mode(o, call);
		seeds_server_batch(o);
		seeds_server_answer(o, call);
		seeds_server_events(o);
		snprintf(name, sizeof(name), "reply-%s", calls[call]);
		seeds_write("reader", name, o);
	}
	seeds_server_mode(o,
			  136); /* 0x80 | 8, and 6 = open: cand_recv() first */
	seeds_server_answer(o, 6);
	seeds_server_events(o);
	seeds_write("reader", "open-recv", o);
	denied.id = 1;
	denied.status = CAND__STATUS__PERMISSION_DENIED;
	denied.detail = (char *)"uid 1000 lacks the 'send' right";
	seeds_server_mode(o, 9);
	seeds_server_reply(o, &denied);
	seeds_write("reader", "reply-denied", o);
}
