/*
 * soak_can: the load of make soak (tests/soak/soak.sh), one mode per
 * process: a paced sender of numbered frames, steady clients that check
 * every number, churners and garbage clients. Each mode runs until its
 * time is up or SIGTERM, then prints one summary line that soak.sh reads.
 */
#ifndef CAND_SOAK_H
#define CAND_SOAK_H

#include <stdint.h>

#include "cand.h"

/* A numbered frame: the number, big-endian, then its complement. */
#define SOAK_DLEN 8

/* Set by SIGTERM and SIGINT. */
int soak_stopped(void);
/* SIGTERM and SIGINT set the flag; SIGPIPE is ignored. */
void soak_signals(void);
int64_t soak_now_ms(void);
/* A number from argv, or exit 2 saying which. */
long soak_arg(const char *what, const char *s);
/* xorshift32: the churners' and garbage clients' dice. */
uint32_t soak_rand(uint32_t *state);

/*
 * A handle on sock opened on ifname with one filter and no error frames,
 * or NULL said on stderr under the name of mode.
 */
cand_t *soak_open(const char *mode, const char *sock, const char *ifname,
		  const struct cand_filter *filter);

void soak_put_seq(struct cand_frame *f, uint32_t id, uint32_t seq);
/* 1 and *seq for a well-formed numbered frame of id, else 0. */
int soak_get_seq(const struct cand_frame *f, uint32_t id, uint32_t *seq);

/* The modes: argv after the mode's name; each returns the exit status. */
int soak_pace(int argc, char **argv);
int soak_check(int argc, char **argv);
int soak_churn(int argc, char **argv);
int soak_garbage(int argc, char **argv);

#endif
