/*
 * Time in text: durations as people type them ("100ms", "5s", "250us",
 * "1.5s", "2min", "1h"; a bare number is milliseconds, like canctl's
 * other timeouts), and the receive times candump -t prints.
 */
#ifndef CAND_TIMETEXT_H
#define CAND_TIMETEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses s into microseconds. Returns 0, or CAND_EINVAL with *why (if why
 * is not NULL) pointing at a static explanation: not a number, an unknown
 * unit, finer than a microsecond, or too large.
 */
int timetext_parse_us(const char *s, uint64_t *us, const char **why);

/* candump -t's modes, by their letters. */
#define TIMETEXT_ABSOLUTE 'a' /* (1436509052.249713) */
#define TIMETEXT_DATE	  'A' /* (2015-07-10 08:17:32.249713), local time */
#define TIMETEXT_DELTA	  'd' /* (000.010020) since the frame before */
#define TIMETEXT_ZERO	  'z' /* (012.345678) since the first frame */

/* Whether c is one of the letters above. */
int timetext_mode_valid(int c);

/*
 * candump's "(...) " for a frame received at ns (since the epoch), in
 * microseconds as SO_TIMESTAMP gives them. *ref_us holds the delta and
 * zero modes' reference, 0 before the first frame. Like snprintf:
 * returns the length the text needs.
 */
int timetext_format_stamp(char *buf, size_t size, int mode, uint64_t ns,
			  uint64_t *ref_us);

#endif
