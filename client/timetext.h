/*
 * Durations as people type them: "100ms", "5s", "250us", "1.5s", "2min",
 * "1h". A bare number is milliseconds, like canctl's other timeouts.
 */
#ifndef CAND_TIMETEXT_H
#define CAND_TIMETEXT_H

#include <stdint.h>

/*
 * Parses s into microseconds. Returns 0, or CAND_EINVAL with *why (if why
 * is not NULL) pointing at a static explanation: not a number, an unknown
 * unit, finer than a microsecond, or too large.
 */
int timetext_parse_us(const char *s, uint64_t *us, const char **why);

#endif
