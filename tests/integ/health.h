/*
 * What the files of the health suite share: the interfaces the tests make
 * (health.c's fixtures remove them), the state, ip and event helpers, and
 * the tests each file adds to health.c's test cases. The helpers are
 * static inline so that each file has them as its own, under the names
 * they had when the suite was one file.
 */
#ifndef CAND_INTEG_HEALTH_H
#define CAND_INTEG_HEALTH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define HP_IFACE   "vcan9" /* hot-plug */
#define EF_IFACE   "vcan8" /* error frames */
#define FL_IFACE   "vcan7" /* flush, behind a slow qdisc */
#define EV_WAIT_MS 3000	   /* an expected event, generously */

static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* `ip -details link show dev` into buf. */
static inline const char *ip_show(const char *dev, char *buf, size_t size)
{
	char cmd[128];
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip -details link show %s 2>&1", dev);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	pclose(f);
	return buf;
}

static inline void assert_ip_says(const char *dev, const char *what)
{
	char buf[4096];

	ck_assert_msg(strstr(ip_show(dev, buf, sizeof(buf)), what) != NULL,
		      "ip -details link show %s lacks \"%s\":\n%s", dev, what,
		      buf);
}

static inline struct cand_bus_state one_state(cand_t *h, const char *ifname)
{
	struct cand_bus_state *v, s;
	int n = cand_bus_state(h, ifname, &v);

	ck_assert_msg(n == 1, "cand_bus_state(%s): %d %s (%s)", ifname, n,
		      n < 0 ? cand_strerror(n) : "", cand_last_detail(h));
	s = v[0];
	free(v);
	return s;
}

/*
 * The next event of this type and interface within EV_WAIT_MS; others
 * (and frames) are passed over.
 */
static inline struct cand_event next_event(cand_t *h, enum cand_event_type t,
					   const char *ifname, const char *what)
{
	struct cand_event ev;
	int64_t end = now_ms() + EV_WAIT_MS;
	int rc;

	for (;;) {
		int64_t left = end - now_ms();

		rc = cand_recv_event(h, &ev, left > 0 ? (int)left : 0);
		ck_assert_msg(rc == 1, "%s: no event within %d ms: %s", what,
			      EV_WAIT_MS, cand_strerror(rc));
		if (ev.type == t && strcmp(ev.ifname, ifname) == 0)
			return ev;
	}
}

/* Asserts that no event of this type for ifname comes within ms. */
static inline void no_event(cand_t *h, enum cand_event_type t,
			    const char *ifname, int ms, const char *what)
{
	struct cand_event ev;
	int64_t end = now_ms() + ms;
	int rc;

	for (;;) {
		int64_t left = end - now_ms();

		if (left <= 0)
			return;
		rc = cand_recv_event(h, &ev, (int)left);
		if (rc == CAND_ETIMEOUT)
			return;
		ck_assert_msg(rc == 1, "%s: %s", what, cand_strerror(rc));
		ck_assert_msg(ev.type != t || strcmp(ev.ifname, ifname) != 0,
			      "%s: unexpected event (type %d) for %s: %s", what,
			      (int)ev.type, ifname, ev.detail);
	}
}

/* The tests of health_state.c, health_configure.c, ...: one file each. */
void health_state_tests(TCase *tc);
void health_configure_tests(TCase *tc);
void health_events_tests(TCase *tc);
void health_flush_tests(TCase *tc);
void health_drops_tests(TCase *tc);
void health_busoff_tests(TCase *tc);

#endif
