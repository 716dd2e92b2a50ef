/*
 * What the two files of the faults suite share: faults.c (the transmit
 * side: held and slow TX queues, links lost under a pending send) and
 * faults_rx.c (a CAN socket's receive buffer overflowing).
 */
#ifndef CAND_INTEG_FAULTS_H
#define CAND_INTEG_FAULTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

/* The suite's own vcan, so that its qdiscs touch no other test. */
#define FAULTS_IFACE "vcanflt0"

int64_t faults_ms(void); /* CLOCK_MONOTONIC */
/* FAULTS_IFACE, up, with qdisc (tc's words) as its root. */
void faults_iface(const char *qdisc);
/* A classic frame whose 4 data bytes are seq, big-endian. */
struct cand_frame faults_frame(uint32_t id, uint32_t seq);
uint32_t faults_seq(const struct cand_frame *f);
/* Removes FAULTS_IFACE and can1's qdisc, brings can1 back as it was. */
void faults_restore(void);
/*
 * The seqs of the frames with id the raw socket gets until nothing came
 * for idle_ms; returns how many, at most max.
 */
size_t faults_collect(int raw, uint32_t id, uint32_t *seqs, size_t max,
		      int idle_ms);
/* seqs are first, first + 1, ...: nothing lost, doubled or reordered. */
void faults_assert_run(const uint32_t *seqs, size_t n, uint32_t first,
		       const char *what);
/* Reaps a child of the test and asserts it exited 0. */
void faults_wait_ok(pid_t pid, const char *what);

/*
 * A test case of the suite, with faults_restore() before each test and
 * after the last: a failed test leaves no qdisc or vcan to the next.
 */
TCase *faults_tcase(Suite *s, const char *name);
/* faults_rx.c, faults_sc.c: their test cases, in faults.c's suite. */
void faults_rx_tcase(Suite *s);
void faults_sc_tcase(Suite *s);

#endif
