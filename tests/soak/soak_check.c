/*
 * check SOCKET IFACE ID: a steady client of cand, opened on IFACE with a
 * filter for ID alone, receiving until SIGTERM, that checks every number
 * of pace's frames: each one the last plus one. Prints "ready" once open,
 * then at the end
 *
 *   check: received N first F last L lost X dup D order O drops K
 *          reconnected R gap G
 *
 * (one line). lost counts numbers skipped; gap those skipped across a
 * reconnection, which cand.h says are lost; order a number below the
 * last, dup one equal to it, drops the kernel's on cand's socket.
 */
#include <stdio.h>
#include <string.h>

#include "soak.h"

struct check {
	uint64_t received, lost, gap, dup, order, reconnected;
	int have;
	uint32_t first, last;
	int after_gap; /* a reconnection since the last frame */
};

static void check_one(struct check *c, uint32_t seq)
{
	c->received++;
	if (!c->have) {
		c->have = 1;
		c->first = c->last = seq;
		return;
	}
	if (seq == c->last) {
		c->dup++;
	} else if (seq < c->last) {
		c->order++;
	} else {
		if (c->after_gap)
			c->gap += seq - c->last - 1;
		else
			c->lost += seq - c->last - 1;
		c->last = seq;
	}
	c->after_gap = 0;
}

int soak_check(int argc, char **argv)
{
	struct cand_filter flt = {.mask = 0x1fffffff, .kind = CAND_FILTER_ANY};
	struct check c;
	struct cand_options o;
	struct cand_frame f;
	uint32_t seq, id;
	cand_t *h;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: soak_can check SOCKET IFACE ID\n");
		return 2;
	}
	id = (uint32_t)soak_arg("id", argv[3]);
	memset(&c, 0, sizeof(c));
	flt.id = id;
	if ((rc = cand_connect(&h, argv[1])) < 0) {
		fprintf(stderr, "soak_can check: %s: %s\n", argv[1],
			cand_strerror(rc));
		return 1;
	}
	cand_options_init(&o);
	o.channel = argv[2];
	o.ignore_rx_error_frames = 1;
	o.filters = &flt;
	o.n_filters = 1;
	if ((rc = cand_open(h, &o)) < 0) {
		fprintf(stderr, "soak_can check: open %s: %s (%s)\n", argv[2],
			cand_strerror(rc), cand_last_detail(h));
		cand_close(h);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!soak_stopped()) {
		rc = cand_recv(h, &f, 200);
		if (rc == 1 && soak_get_seq(&f, id, &seq)) {
			check_one(&c, seq);
		} else if (rc == CAND_ERECONNECTED) {
			c.reconnected++;
			c.after_gap = 1;
		} else if (rc != 1 && rc != CAND_ETIMEOUT) {
			fprintf(stderr, "soak_can check: receive: %s (%s)\n",
				cand_strerror(rc), cand_last_detail(h));
			break;
		}
	}
	printf("check: received %llu first %lu last %lu lost %llu dup %llu "
	       "order %llu drops %llu reconnected %llu gap %llu\n",
	       (unsigned long long)c.received, (unsigned long)c.first,
	       (unsigned long)c.last, (unsigned long long)c.lost,
	       (unsigned long long)c.dup, (unsigned long long)c.order,
	       (unsigned long long)cand_kernel_drops(h),
	       (unsigned long long)c.reconnected, (unsigned long long)c.gap);
	cand_close(h);
	return rc == 1 || rc == CAND_ETIMEOUT || rc == CAND_ERECONNECTED ? 0
									 : 1;
}
