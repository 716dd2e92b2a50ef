/*
 * libcand's reader of what the daemon sends: a hostile or broken daemon
 * must not crash its clients. The first byte picks how the rest arrives.
 *
 *   0    fed through libcand_read_feed(), as if from the socket, and
 *        taken out of the queues (the reader's documented entry point)
 *   1-9  as the daemon's end of a socketpair that then closes, while one
 *        call waits for its reply: list, bus state, task list, configure,
 *        flush_tx, open, task start, monitor start, send. That reaches
 *        each call's own decoding of its reply.
 *
 * Then everything queued is received. Beyond the sanitizers: whatever
 * comes out is within cand.h's bounds (lengths, NUL-terminated names,
 * known event types), lists are as long as their call said, and a
 * connection the bytes killed stays dead with the same code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "libcand_int.h"

#define FUZZ_READER_CALLS 10

#define FUZZ_READER_NUL(a) (memchr((a), '\0', sizeof(a)) != NULL)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void fuzz_reader_frame(const struct cand_frame *f)
{
	FUZZ_CHECK(f->len <= ((f->flags & CAND_FRAME_FD) ? CAND_MAX_DLEN : 8));
	FUZZ_CHECK(f->id <= 0x1fffffffu);
	FUZZ_CHECK(FUZZ_READER_NUL(f->ifname));
}

static void fuzz_reader_event(const struct cand_event *ev)
{
	FUZZ_CHECK(ev->type >= CAND_EVENT_FRAME &&
		   ev->type <= CAND_EVENT_RIGHTS);
	FUZZ_CHECK(FUZZ_READER_NUL(ev->ifname));
	FUZZ_CHECK(FUZZ_READER_NUL(ev->detail));
	fuzz_reader_frame(&ev->frame);
}

/* Everything the handle holds, then the socket's rest, until it ends. */
static void fuzz_reader_drain(cand_t *h, int use_recv)
{
	struct cand_event ev;
	struct cand_frame f;
	int rc, again;

	if (h->fd < 0) {
		while (libcand_queue_pop(h, &ev) == 1)
			fuzz_reader_event(&ev);
		FUZZ_CHECK(libcand_queue_len(h) == 0);
		return;
	}
	/* cand_recv() first: it must pass events by, and stop at links. */
	while (use_recv && (rc = cand_recv(h, &f, 0)) != CAND_ETIMEOUT) {
		if (rc == 1)
			fuzz_reader_frame(&f);
		else if (rc != CAND_ENETDOWN && rc != CAND_ENODEV)
			break;
	}
	while ((rc = cand_recv_event(h, &ev, 0)) == 1)
		fuzz_reader_event(&ev);
	/* The socket closed after the input: the handle must be dead. */
	FUZZ_CHECK(rc < 0 && rc != CAND_ETIMEOUT);
	FUZZ_CHECK(cand_last_detail(h) != NULL);
	again = cand_recv_event(h, &ev, 0);
	FUZZ_CHECK(again == rc);
	FUZZ_CHECK(cand_recv(h, &f, 0) == rc);
}

static void fuzz_reader_list(cand_t *h)
{
	struct cand_iface *ifs;
	int i, n = cand_list(h, &ifs);

	if (n < 0)
		return;
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(FUZZ_READER_NUL(ifs[i].name));
		FUZZ_CHECK(FUZZ_READER_NUL(ifs[i].kind));
	}
	free(ifs);
}

static void fuzz_reader_state(cand_t *h)
{
	struct cand_bus_state *st;
	int i, n = cand_bus_state(h, "", &st);

	if (n < 0)
		return;
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(FUZZ_READER_NUL(st[i].link.name));
		FUZZ_CHECK(FUZZ_READER_NUL(st[i].link.kind));
		FUZZ_CHECK(FUZZ_READER_NUL(st[i].busoff_policy));
	}
	free(st);
}

static void fuzz_reader_tasks(cand_t *h)
{
	struct cand_task_info *t;
	int i, n = cand_task_list(h, &t);
	size_t j;

	if (n < 0)
		return;
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(t[i].n_frames == 0 || t[i].frames != NULL);
		for (j = 0; j < t[i].n_frames; j++)
			fuzz_reader_frame(&t[i].frames[j]);
	}
	free(t); /* the frames too: one block */
}

/* The frames a task or a send gives; the daemon's answer is the input. */
static const struct cand_frame fuzz_reader_frames[2] = {
	{.id = 0x123, .len = 2, .data = {1, 2}},
	{.id = 0x1abcdef, .flags = CAND_FRAME_EXTENDED},
};

static void fuzz_reader_call(cand_t *h, int which)
{
	struct cand_bus_change chg;
	struct cand_bus_configured res;
	struct cand_options opts;
	struct cand_monitor_opts mo;
	cand_task_t *task;
	cand_monitor_t *mon;
	char note[64];

	switch (which) {
	case 1:
		fuzz_reader_list(h);
		break;
	case 2:
		fuzz_reader_state(h);
		break;
	case 3:
		fuzz_reader_tasks(h);
		break;
	case 4:
		cand_bus_change_init(&chg);
		chg.bitrate = 500000;
		cand_configure(h, "can0", &chg, &res);
		break;
	case 5:
		if (cand_flush_tx(h, note, sizeof(note)) >= 0)
			FUZZ_CHECK(FUZZ_READER_NUL(note));
		break;
	case 6:
		cand_options_init(&opts);
		opts.channel = "vcan0";
		cand_open(h, &opts);
		break;
	case 7:
		if (cand_task_start(h, fuzz_reader_frames, 2, 100000, 0, 0,
				    &task) == 0)
			cand_task_free(task);
		break;
	case 8:
		cand_monitor_opts_init(&mo);
		mo.id = 0x123;
		if (cand_monitor_start(h, &mo, &mon) == 0)
			cand_monitor_free(mon);
		break;
	default:
		cand_send(h, fuzz_reader_frames, 2, 0);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cand_t *h;
	int which, sv[2];

	if (size < 1)
		return 0;
	which = data[0] % FUZZ_READER_CALLS;
	if ((h = libcand_conn_new()) == NULL)
		fuzz_die("libcand_conn_new");
	if (which == 0) {
		/* The channel decides which link events cand_recv() reports. */
		snprintf(h->channel, sizeof(h->channel), "%s",
			 (data[0] & 0x80) ? "vcan0" : "");
		libcand_read_feed(h, data + 1, size - 1);
		fuzz_reader_drain(h, 0);
		cand_close(h);
		return 0;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		fuzz_die("socketpair");
	/* The input fits the socket's buffer: libFuzzer's -max_len is less. */
	if (size > 1 && write(sv[1], data + 1, size - 1) != (ssize_t)size - 1)
		fuzz_die("write");
	/* EOF after the input, so no call ever waits on the clock. */
	shutdown(sv[1], SHUT_WR);
	h->fd = sv[0];
	fuzz_reader_call(h, which);
	fuzz_reader_drain(h, (data[0] & 0x80) != 0);
	cand_close(h);
	close(sv[1]);
	return 0;
}
