/*
 * What the files of the bcm suite share: the task and receive helpers
 * they all use, and the tests each adds to bcm.c's test cases. The
 * helpers are static inline so that each file has them as its own, under
 * the names they had when the suite was one file.
 */
#ifndef CAND_INTEG_BCM_H
#define CAND_INTEG_BCM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util.h"

#define MS	  1000u	   /* in microseconds */
#define NS_PER_MS 1000000u /* in nanoseconds */

static inline int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline cand_task_t *task_start(cand_t *h, const struct cand_frame *f,
				      size_t n, uint64_t period_us,
				      uint64_t duration_us, unsigned flags)
{
	cand_task_t *t = NULL;
	int rc = cand_task_start(h, f, n, period_us, duration_us, flags, &t);

	ck_assert_msg(rc == 0, "cand_task_start: %s (%s)", cand_strerror(rc),
		      cand_last_detail(h));
	ck_assert_ptr_nonnull(t);
	return t;
}

/*
 * Receives frames with this id (others are skipped) until want of them
 * came or none for gap_ms. Returns how many.
 */
static inline size_t collect_id(cand_t *h, uint32_t id, struct cand_frame *out,
				size_t want, int gap_ms)
{
	struct cand_frame f;
	size_t n = 0;
	int64_t last = mono_ms();

	while (n < want) {
		int left = (int)(last + gap_ms - mono_ms());
		int rc = cand_recv(h, &f, left > 0 ? left : 0);

		if (rc != 1)
			break;
		if (f.id != id)
			continue;
		out[n++] = f;
		last = mono_ms();
	}
	return n;
}

/* Waits until no frame with this id came for quiet_ms; fails after 3 s. */
static inline void drain_id(cand_t *h, uint32_t id, int quiet_ms)
{
	struct cand_frame f;
	int64_t end = mono_ms() + 3000, last = mono_ms();

	while (mono_ms() - last < quiet_ms) {
		ck_assert_msg(mono_ms() < end, "id 0x%x never went quiet", id);
		if (cand_recv(h, &f, quiet_ms) == 1 && f.id == id)
			last = mono_ms();
	}
}

static inline void assert_silent(cand_t *h, uint32_t id, int ms,
				 const char *what)
{
	struct cand_frame f;
	char buf[192];
	int64_t end = mono_ms() + ms;
	int left;

	while ((left = (int)(end - mono_ms())) > 0) {
		if (cand_recv(h, &f, left) != 1)
			continue;
		ck_assert_msg(f.id != id, "%s: got %s", what,
			      util_frame_str(&f, buf, sizeof(buf)));
	}
}

/* The next task or monitor event, skipping frames: 1, or an error code. */
static inline int next_event(cand_t *h, struct cand_event *ev, int timeout_ms)
{
	int64_t end = mono_ms() + timeout_ms;
	int rc, left;

	for (;;) {
		left = (int)(end - mono_ms());
		rc = cand_recv_event(h, ev, left > 0 ? left : 0);
		if (rc != 1 || ev->type != CAND_EVENT_FRAME)
			return rc;
	}
}

/* The tests of bcm_periodic.c, bcm_lifecycle.c, ...: one file each. */
void bcm_periodic_tests(TCase *tc);
void bcm_lifecycle_tests(TCase *tc);
void bcm_ownership_tests(TCase *tc);
void bcm_monitor_tests(TCase *tc);

#endif
