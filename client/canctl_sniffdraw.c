/*
 * canctl sniff's screen, drawn as cansniffer draws it: a header whose
 * first two characters become a rolling counter, then a line per id in
 * place (the cursor skips the ones that did not change), changed bits
 * in colour. Only as many lines as the terminal has rows. When stdout is
 * no terminal, plain lines of the ids that had frames, no escapes.
 */
#include <stdio.h>
#include <string.h>

#include "canctl_sniff.h"

#define CANCTL_SNIFFDRAW_CLEAR	"\33[2J"
#define CANCTL_SNIFFDRAW_HOME	"\33[H"
#define CANCTL_SNIFFDRAW_DOWN	"\33[B"
#define CANCTL_SNIFFDRAW_SHOW	"\33[?25h"
#define CANCTL_SNIFFDRAW_MARK	"\33[1m\33[31m" /* cansniffer's ATTCOLOR */
#define CANCTL_SNIFFDRAW_NORMAL "\33[0m"

#define CANCTL_SNIFFDRAW_EFF 0x80000000u
#define CANCTL_SNIFFDRAW_LDL " | " /* cansniffer's delimiters */

/* Between the columns: narrower for -8, so EFF bits fit in 80. */
static const char *canctl_sniffdraw_delim(const struct canctl_sniff *s)
{
	return s->binary && s->binary8 && s->eff_seen ? " "
						      : CANCTL_SNIFFDRAW_LDL;
}

static void canctl_sniffdraw_header(const struct canctl_sniff *s)
{
	const char *d = canctl_sniffdraw_delim(s);
	int eff = s->eff_seen || s->fix_eff;

	printf("XX|ms%s%s%sdata ...     < %s # l=%u h=%u t=%u slots=%d >", d,
	       eff ? "-- ID --" : "ID ", eff ? d : CANCTL_SNIFFDRAW_LDL,
	       s->iface, s->loop_ms / 10, s->hold_ms / 10, s->timeout_ms / 10,
	       s->n_slots);
}

/* A byte or bit, in colour when it changed and is not notched. */
static void canctl_sniffdraw_marked(const struct canctl_sniff *s, int marked,
				    const char *text)
{
	if (marked && s->color && s->tty)
		printf(CANCTL_SNIFFDRAW_MARK "%s" CANCTL_SNIFFDRAW_NORMAL,
		       text);
	else
		fputs(text, stdout);
}

static void canctl_sniffdraw_binary(const struct canctl_sniff *s,
				    const struct canctl_sniff_slot *v)
{
	int i, j;

	for (i = 0; i < 8; i++) {
		for (j = 7; j >= 0; j--) {
			if (i >= v->len)
				putchar(' ');
			else
				canctl_sniffdraw_marked(
					s,
					(v->marker[i] & ~v->notch[i]) >> j & 1,
					(v->data[i] >> j & 1) ? "1" : "0");
		}
		if (s->binary_gap)
			putchar(' ');
	}
}

static void canctl_sniffdraw_hex(const struct canctl_sniff *s,
				 const struct canctl_sniff_slot *v)
{
	char text[4];
	int i, marked;

	for (i = 0; i < 8; i++) {
		if (i >= v->len) {
			fputs("   ", stdout);
			continue;
		}
		snprintf(text, sizeof(text), "%02X", v->data[i]);
		canctl_sniffdraw_marked(s, (v->marker[i] & ~v->notch[i]) != 0,
					text);
		putchar(' ');
	}
	for (i = 0; i < 8; i++) {
		marked = (v->marker[i] & ~v->notch[i]) != 0;
		text[0] = v->data[i] > 0x1f && v->data[i] < 0x7f
				  ? (char)v->data[i]
				  : '.';
		text[1] = '\0';
		/* Blanks over what a longer frame left. */
		if (i >= v->len)
			putchar(' ');
		else
			canctl_sniffdraw_marked(s, marked, text);
	}
}

/* One id's line: the period (seconds, ms), the id, the data. */
static void canctl_sniffdraw_line(const struct canctl_sniff *s,
				  const struct canctl_sniff_slot *v)
{
	const char *d = canctl_sniffdraw_delim(s);
	uint64_t us = 0;

	if (v->prev_ns != 0 && v->stamp_ns > v->prev_ns)
		us = (v->stamp_ns - v->prev_ns) / 1000u;
	if (us >= 100000000u)
		us = 99999999u;
	printf("%02u%03u", (unsigned)(us / 1000000u),
	       (unsigned)(us % 1000000u / 1000u));
	if (v->key & CANCTL_SNIFFDRAW_EFF)
		printf("%s%08X%s", d, v->key & ~CANCTL_SNIFFDRAW_EFF, d);
	else if (s->eff_seen || s->fix_eff)
		printf("%s---- %03X%s", d, v->key, d);
	else
		printf(CANCTL_SNIFFDRAW_LDL "%03X" CANCTL_SNIFFDRAW_LDL,
		       v->key);
	if (s->binary)
		canctl_sniffdraw_binary(s, v);
	else
		canctl_sniffdraw_hex(s, v);
	putchar('\n');
}

static int canctl_sniffdraw_shown(const struct canctl_sniff_slot *v)
{
	return (v->flags & (CANCTL_SNIFF_ENABLE | CANCTL_SNIFF_DISPLAY)) ==
	       (CANCTL_SNIFF_ENABLE | CANCTL_SNIFF_DISPLAY);
}

/* Plain lines: the ids with frames since the last refresh. */
static void canctl_sniffdraw_plain(struct canctl_sniff *s)
{
	struct canctl_sniff_slot *v;
	int i;

	/* A header again only when the columns change. */
	if (s->plain_header != 1 + s->eff_seen) {
		canctl_sniffdraw_header(s);
		putchar('\n');
		s->plain_header = 1 + s->eff_seen;
	}
	s->clear = 0;
	for (i = 0; i < s->n_slots; i++) {
		v = &s->slots[i];
		if (canctl_sniffdraw_shown(v) &&
		    (v->flags & CANCTL_SNIFF_UPDATE)) {
			canctl_sniffdraw_line(s, v);
			v->flags &= ~CANCTL_SNIFF_UPDATE;
		}
	}
}

int canctl_sniffdraw_refresh(struct canctl_sniff *s, uint64_t now_ms)
{
	struct canctl_sniff_slot *v;
	int i, lines = 0, force = 0;

	canctl_snifftab_expire(s, now_ms);
	if (!s->tty) {
		canctl_sniffdraw_plain(s);
		return fflush(stdout) == EOF ? -1 : 0;
	}
	if (s->clear) {
		fputs(CANCTL_SNIFFDRAW_CLEAR CANCTL_SNIFFDRAW_HOME, stdout);
		canctl_sniffdraw_header(s);
		s->clear = 0;
		force = 1;
	}
	printf(CANCTL_SNIFFDRAW_HOME "%02u\n", s->counter++ % 100);
	/* One row for the header, and none scrolled off by the last line. */
	for (i = 0; i < s->n_slots && lines < s->rows - 2; i++) {
		v = &s->slots[i];
		if (!canctl_sniffdraw_shown(v))
			continue;
		lines++;
		if ((v->flags & CANCTL_SNIFF_UPDATE) || force)
			canctl_sniffdraw_line(s, v);
		else
			fputs(CANCTL_SNIFFDRAW_DOWN, stdout);
		v->flags &= ~CANCTL_SNIFF_UPDATE;
	}
	return fflush(stdout) == EOF ? -1 : 0;
}

void canctl_sniffdraw_end(const struct canctl_sniff *s)
{
	if (s->tty) {
		fputs(CANCTL_SNIFFDRAW_SHOW, stdout);
		fflush(stdout);
	}
}
