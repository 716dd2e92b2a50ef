/* candump's filter syntax; see filtertext.h. */
#include <string.h>

#include "filtertext.h"

#define FILTERTEXT_EFF	0x80000000u
#define FILTERTEXT_ERR	0x20000000u
#define FILTERTEXT_MASK 0x1fffffffu

static int filtertext_fail(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return CAND_EINVAL;
}

int filtertext_hex32(const char *s, const char *end, uint32_t *out)
{
	uint32_t v = 0;
	const char *p;
	int n;

	if (end == s || end - s > 8)
		return -1;
	for (p = s; p < end; p++) {
		if (*p >= '0' && *p <= '9')
			n = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			n = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			n = *p - 'A' + 10;
		else
			return -1;
		v = v << 4 | (uint32_t)n;
	}
	*out = v;
	return 0;
}

/* The RTR bit of a mask has no cand equivalent: it is ignored. */
int filtertext_parse(const char *s, struct cand_filter *f, const char **why)
{
	const char *sep;
	uint32_t id, mask;

	memset(f, 0, sizeof(*f));
	if (s[0] == '#')
		return filtertext_fail(why, "error mask filters (#mask) are "
					    "not supported; error frames "
					    "come unless -E");
	if ((s[0] == 'j' || s[0] == 'J') && s[1] == '\0')
		return filtertext_fail(why,
				       "joined filters (j) are not supported");
	sep = s + strcspn(s, ":~");
	if (*sep == '\0')
		return filtertext_fail(why, "a filter is id:mask or id~mask");
	if (filtertext_hex32(s, sep, &id) < 0 ||
	    filtertext_hex32(sep + 1, sep + 1 + strlen(sep + 1), &mask) < 0)
		return filtertext_fail(why, "id and mask are 1 to 8 hex "
					    "digits");
	mask &= ~FILTERTEXT_ERR;
	if (sep - s == 8)
		id |= FILTERTEXT_EFF;
	f->id = id & FILTERTEXT_MASK;
	f->mask = mask & FILTERTEXT_MASK;
	if (mask & FILTERTEXT_EFF)
		f->kind = (id & FILTERTEXT_EFF) ? CAND_FILTER_EXTENDED
						: CAND_FILTER_STANDARD;
	else
		f->kind = CAND_FILTER_ANY;
	f->invert = *sep == '~';
	return 0;
}
