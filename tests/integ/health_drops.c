/*
 * Drops: a client that does not read during a flood is told how many
 * frames it lost, and every frame is received or counted.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "health.h"

/*
 * A client that does not read during a flood is told, by drop events,
 * how many frames it lost and that it was too slow: the sum of the
 * events is the kernel's count, and every frame is received or counted.
 */
START_TEST(test_drop_events_for_a_slow_reader)
{
	/* Enough packed frames (24 bytes each) to pass the 4 MiB watermark. */
	enum { FLOOD = 400000 };
	cand_t *h = util_open("vcan0");
	int s = util_raw_open("vcan0", 0), is_fd, rc;
	struct cand_frame f = util_frame(0x3A1, 0, "00000000");
	struct canfd_frame cf;
	struct cand_event ev;
	uint64_t backlog0 = softnet_drops(), backlog, dropped = 0, last = 0;
	uint32_t sent = 0, received = 0;
	int events = 0, slow = 0;

	while (sent < FLOOD) {
		f.data[3] = (uint8_t)sent;
		util_to_raw(&f, &cf, &is_fd);
		if (write(s, &cf, CAN_MTU) == CAN_MTU)
			sent++;
		else if (errno == ENOBUFS || errno == EAGAIN)
			util_msleep(1);
		else
			ck_abort_msg("raw write: %s", strerror(errno));
	}
	for (;;) {
		rc = cand_recv_event(h, &ev, 1000);
		if (rc == CAND_ETIMEOUT)
			break;
		ck_assert_msg(rc == 1, "after %u frames: %s", received,
			      cand_strerror(rc));
		if (ev.type == CAND_EVENT_FRAME) {
			received++;
			continue;
		}
		if (ev.type != CAND_EVENT_DROPS)
			continue;
		events++;
		slow |= ev.drops.slow_reader;
		dropped += ev.drops.dropped;
		ck_assert_msg(ev.drops.kernel_drops > last,
			      "drop totals not rising: %llu after %llu",
			      (unsigned long long)ev.drops.kernel_drops,
			      (unsigned long long)last);
		last = ev.drops.kernel_drops;
		ck_assert_msg(ev.detail[0] != '\0',
			      "a drop event without words");
	}
	/* A marker brings the final count, and any last drop event. */
	f = util_frame(0x3A2, 0, "FF");
	util_raw_send(s, &f);
	do {
		rc = cand_recv_event(h, &ev, RX_TIMEOUT_MS);
		ck_assert_msg(rc == 1, "marker: %s", cand_strerror(rc));
		if (ev.type == CAND_EVENT_DROPS) {
			events++;
			slow |= ev.drops.slow_reader;
			dropped += ev.drops.dropped;
			last = ev.drops.kernel_drops;
		}
	} while (ev.type != CAND_EVENT_FRAME);
	backlog = softnet_drops() - backlog0;
	fprintf(stderr,
		"test_drop_events_for_a_slow_reader: sent %u, received %u, "
		"%d drop events, %llu dropped, backlog %llu\n",
		sent, received, events, (unsigned long long)dropped,
		(unsigned long long)backlog);
	ck_assert_msg(events > 0 && dropped > 0,
		      "no drop event after %u frames to a client that did "
		      "not read (received %u)",
		      sent, received);
	/*
	 * Under valgrind the daemon itself is slower than the flood: the
	 * kernel drops before the client's output ever fills, and the events
	 * rightly do not blame the client.
	 */
	if (getenv("CAND_DAEMON_WRAPPER") == NULL ||
	    getenv("CAND_DAEMON_WRAPPER")[0] == '\0')
		ck_assert_msg(slow, "no drop event says the reader was slow");
	ck_assert_uint_eq(dropped, last);
	ck_assert_uint_eq(cand_kernel_drops(h), last);
	ck_assert_msg(received + dropped + backlog == sent,
		      "received %u + dropped %llu + backlog %llu != sent %u",
		      received, (unsigned long long)dropped,
		      (unsigned long long)backlog, sent);
	close(s);
	cand_close(h);
}
END_TEST

void health_drops_tests(TCase *tc)
{
	tcase_add_test(tc, test_drop_events_for_a_slow_reader);
}
