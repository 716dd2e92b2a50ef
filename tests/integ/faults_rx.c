/*
 * Faults on the receive side (issue 13, part 4): a CAN socket's receive
 * buffer overflowing while the daemon itself is stalled (SIGSTOP), not
 * its client. Each client's socket loses what did not fit; each client
 * hears of its own losses in drop events that do not blame it (slow_reader
 * off), the frames it does get are in order and none twice, and what it
 * got plus what it was told it lost is what was sent. The daemon is one
 * of the test's own, with a small can_receive_buffer, so the stall
 * touches no other test.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faults.h"

#define FR_ID	  0x777
#define FR_MARKER 0x778

/* Writes f, waiting while the socket's own queue is full: it goes out. */
static void fr_write(int s, const struct cand_frame *f)
{
	struct canfd_frame cf;
	int is_fd;

	util_to_raw(f, &cf, &is_fd);
	while (write(s, &cf, CAN_MTU) != CAN_MTU) {
		ck_assert_msg(errno == ENOBUFS || errno == EAGAIN,
			      "raw write: %s", strerror(errno));
		util_msleep(1);
	}
}

static cand_t *fr_open(const char *sock, const char *channel)
{
	struct cand_options o;
	cand_t *h;
	int rc;

	ck_assert_int_eq(cand_connect(&h, sock), CAND_OK);
	cand_options_init(&o);
	o.channel = channel;
	rc = cand_open(h, &o);
	ck_assert_msg(rc == CAND_OK, "open %s: %s", channel, cand_strerror(rc));
	return h;
}

/* What one client saw of the flood, up to the marker after it. */
struct fr_seen {
	uint32_t frames;
	uint32_t next;	  /* the lowest seq still to come */
	uint64_t dropped; /* the drop events' sum */
	uint64_t kernel_drops;
	int events, blamed;
};

/*
 * Adds what h receives to s: until the marker frame, or with marker 0
 * until nothing came for idle_ms.
 */
static void fr_receive(cand_t *h, struct fr_seen *s, int marker, int idle_ms,
		       const char *who)
{
	struct cand_event ev;
	uint32_t seq;
	int rc;

	for (;;) {
		rc = cand_recv_event(h, &ev, idle_ms);
		if (rc == CAND_ETIMEOUT && !marker)
			return;
		ck_assert_msg(rc == 1, "%s after %u frames: %s", who, s->frames,
			      cand_strerror(rc));
		if (ev.type == CAND_EVENT_DROPS) {
			s->events++;
			s->dropped += ev.drops.dropped;
			s->kernel_drops = ev.drops.kernel_drops;
			s->blamed |= ev.drops.slow_reader;
			ck_assert_msg(ev.detail[0] != '\0',
				      "%s: a drop event without words", who);
			continue;
		}
		if (ev.type != CAND_EVENT_FRAME)
			continue;
		if (ev.frame.id == FR_MARKER && marker)
			return;
		ck_assert_uint_eq(ev.frame.id, FR_ID);
		seq = faults_seq(&ev.frame);
		ck_assert_msg(seq >= s->next, "%s: seq %u after %u", who, seq,
			      s->next);
		s->next = seq + 1;
		s->frames++;
	}
}

START_TEST(test_rcvbuf_overflow_daemon_stalled)
{
	enum { FLOOD = 3000 };
	struct util_daemon d;
	struct fr_seen seen[2];
	struct cand_frame f;
	cand_t *h[2], *other;
	uint64_t backlog;
	int raw, raw0, i;

	ck_assert_int_eq(util_sh("ip link add dev %s type vcan && "
				 "ip link set %s up",
				 FAULTS_IFACE, FAULTS_IFACE),
			 0);
	util_daemon_start(&d, "faults", "[limits]\ncan_receive_buffer = 16K\n");
	h[0] = fr_open(d.sock, FAULTS_IFACE);
	h[1] = fr_open(d.sock, FAULTS_IFACE);
	other = fr_open(d.sock, "vcan0");
	raw = util_raw_open(FAULTS_IFACE, 0);
	raw0 = util_raw_open("vcan0", 0);

	backlog = softnet_drops();
	ck_assert_int_eq(kill(d.pid, SIGSTOP), 0);
	for (i = 0; i < FLOOD; i++) {
		f = faults_frame(FR_ID, (uint32_t)i);
		fr_write(raw, &f);
	}
	ck_assert_int_eq(kill(d.pid, SIGCONT), 0);
	backlog = softnet_drops() - backlog;
	/*
	 * What fitted, then a marker once the daemon has read its sockets
	 * empty (a marker into a full one would be lost too), which brings
	 * any last drop event.
	 */
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 2; i++)
		fr_receive(h[i], &seen[i], 0, 500, "a client");
	f = faults_frame(FR_MARKER, 0);
	fr_write(raw, &f);

	for (i = 0; i < 2; i++) {
		fr_receive(h[i], &seen[i], 1, RX_TIMEOUT_MS,
			   i ? "second client" : "first client");
		fprintf(stderr,
			"test_rcvbuf_overflow_daemon_stalled: client %d got "
			"%u of %d, %d drop events for %llu, backlog %llu\n",
			i, seen[i].frames, FLOOD, seen[i].events,
			(unsigned long long)seen[i].dropped,
			(unsigned long long)backlog);
		ck_assert_msg(seen[i].dropped > 0 && seen[i].frames > 0,
			      "client %d: %u frames, %llu dropped", i,
			      seen[i].frames,
			      (unsigned long long)seen[i].dropped);
		ck_assert_msg(!seen[i].blamed,
			      "client %d was called a slow reader", i);
		ck_assert_uint_eq(seen[i].dropped, seen[i].kernel_drops);
		ck_assert_uint_eq(cand_kernel_drops(h[i]),
				  seen[i].kernel_drops);
		ck_assert_msg(
			seen[i].frames + seen[i].dropped + backlog == FLOOD,
			"client %d: %u received + %llu dropped + %llu "
			"backlog != %d sent",
			i, seen[i].frames, (unsigned long long)seen[i].dropped,
			(unsigned long long)backlog, FLOOD);
	}
	/* A client on another interface never noticed. */
	f = faults_frame(0x5B1, 1);
	util_send(other, &f, 1);
	util_raw_recv_ok(raw0, &f, "the other client's frame");
	ck_assert_int_eq(cand_recv(other, &f, SETTLE_MS), CAND_ETIMEOUT);

	close(raw);
	close(raw0);
	cand_close(h[0]);
	cand_close(h[1]);
	cand_close(other);
	util_daemon_stop(&d);
	ck_assert_int_eq(util_sh("ip link del %s", FAULTS_IFACE), 0);
}
END_TEST

void faults_rx_tcase(Suite *s)
{
	tcase_add_test(faults_tcase(s, "rx"),
		       test_rcvbuf_overflow_daemon_stalled);
}
