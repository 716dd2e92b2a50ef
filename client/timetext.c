/* Time in text; see timetext.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cand.h"
#include "timetext.h"

static const struct timetext_unit {
	const char *name;
	uint64_t us;
} timetext_units[] = {
	{"us", 1},	   {"ms", 1000},       {"s", 1000000},
	{"min", 60000000}, {"h", 3600000000u},
};

static int timetext_fail(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	return CAND_EINVAL;
}

int timetext_parse_us(const char *s, uint64_t *us, const char **why)
{
	uint64_t whole = 0, frac = 0, scale = 1, mult = 1000, v;
	const char *p = s;
	size_t i;

	if (*p < '0' || *p > '9')
		return timetext_fail(why, "a duration starts with a number");
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return timetext_fail(why, "the duration is too large");
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return timetext_fail(why, "digits must follow the '.'");
		/* 9 digits keep frac * mult in 64 bits; more must be zeros. */
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (scale >= 1000000000u) {
				if (*p != '0')
					return timetext_fail(
						why,
						"finer than a microsecond");
				continue;
			}
			frac = frac * 10 + (uint64_t)(*p - '0');
			scale *= 10;
		}
	}
	if (*p != '\0') {
		for (i = 0;
		     i < sizeof(timetext_units) / sizeof(timetext_units[0]);
		     i++)
			if (strcmp(p, timetext_units[i].name) == 0)
				break;
		if (i == sizeof(timetext_units) / sizeof(timetext_units[0]))
			return timetext_fail(why,
					     "the unit is us, ms, s, min or h");
		mult = timetext_units[i].us;
	}
	if (whole > UINT64_MAX / mult)
		return timetext_fail(why, "the duration is too large");
	v = whole * mult;
	if (frac * mult % scale != 0)
		return timetext_fail(why, "finer than a microsecond");
	if (v > UINT64_MAX - frac * mult / scale)
		return timetext_fail(why, "the duration is too large");
	*us = v + frac * mult / scale;
	return 0;
}

int timetext_mode_valid(int c)
{
	return c == TIMETEXT_ABSOLUTE || c == TIMETEXT_DATE ||
	       c == TIMETEXT_DELTA || c == TIMETEXT_ZERO;
}

int timetext_format_stamp(char *buf, size_t size, int mode, uint64_t ns,
			  uint64_t *ref_us)
{
	uint64_t us = ns / 1000u, diff;
	char date[32];
	struct tm tm;
	time_t sec = (time_t)(us / 1000000u);

	switch (mode) {
	case TIMETEXT_ABSOLUTE:
		return snprintf(buf, size, "(%010llu.%06llu) ",
				(unsigned long long)(us / 1000000u),
				(unsigned long long)(us % 1000000u));
	case TIMETEXT_DATE:
		if (localtime_r(&sec, &tm) == NULL ||
		    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm) == 0)
			date[0] = '\0';
		return snprintf(buf, size, "(%s.%06llu) ", date,
				(unsigned long long)(us % 1000000u));
	case TIMETEXT_DELTA:
	case TIMETEXT_ZERO:
		if (*ref_us == 0)
			*ref_us = us;
		/* candump shows a clock that went back as no time at all. */
		diff = us > *ref_us ? us - *ref_us : 0;
		if (mode == TIMETEXT_DELTA)
			*ref_us = us;
		return snprintf(buf, size, "(%03llu.%06llu) ",
				(unsigned long long)(diff / 1000000u),
				(unsigned long long)(diff % 1000000u));
	default:
		if (size > 0)
			buf[0] = '\0';
		return 0;
	}
}
