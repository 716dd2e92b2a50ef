/*
 * A cand client beside its "twin": a raw CAN_RAW socket set up as
 * python-can would set one up for the same options (filters, error mask,
 * CAN FD). The twin is the kernel's answer to what the client must get,
 * for the suites that hold cand's shared receiving socket to it
 * (shared.c, sharedmany.c).
 */
#ifndef CAND_INTEG_TWIN_H
#define CAND_INTEG_TWIN_H

#include "util.h"

#define TWIN_MAX_FILTERS 4

struct twin {
	const char *what;
	struct cand_options o;
	struct cand_filter f[TWIN_MAX_FILTERS];
	cand_t *h;
	int raw;
};

/* Opens the client on channel with these options, and its twin. */
void twin_open(struct twin *c, const char *what, const char *channel, int fd,
	       int ignore_errors, const struct cand_filter *f, size_t n);
/*
 * Asserts that the client got exactly what its twin got (at most max
 * frames), in the same order and none marked OWN; settle_ms is how long
 * each side is watched for one more. Closes both.
 */
void twin_check(struct twin *c, size_t max, int settle_ms);

#endif
