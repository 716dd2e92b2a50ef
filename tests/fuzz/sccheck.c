/*
 * What fuzz_sc checks of every element parse.c takes: the bounds of a
 * parsed command, and that it reads back the same from the text a
 * well-behaved client (python-can, socketcand's own docs) would write for
 * it. A field parsed from the wrong token, a number taken past its
 * range or a flag lost shows as a difference.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "sccheck.h"

struct sccheck_text {
	char buf[SC_ELEMENT_MAX];
	size_t len;
};

static void sccheck_add(struct sccheck_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sccheck_add(struct sccheck_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	FUZZ_CHECK(n >= 0 && (size_t)n < sizeof(t->buf) - t->len);
	t->len += (size_t)n;
}

static void sccheck_bytes(struct sccheck_text *t, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sccheck_add(t, " %x", b[i]);
}

/* An id as socketcand writes it: 8 digits when extended. */
static void sccheck_id(struct sccheck_text *t, const struct sc_cmd *c)
{
	if (c->extended)
		sccheck_add(t, " %08X", c->id);
	else
		sccheck_add(t, " %X", c->id);
}

static void sccheck_ival(struct sccheck_text *t, const struct sc_cmd *c)
{
	sccheck_add(t, " %llu %llu", (unsigned long long)(c->ival_us / 1000000),
		    (unsigned long long)(c->ival_us % 1000000));
}

/* The canonical element of c. */
static void sccheck_format(struct sccheck_text *t, const struct sc_cmd *c)
{
	size_t i;

	t->len = 0;
	if (c->op == SC_OP_BITTIMING || c->op == SC_OP_CTRLMODE)
		sccheck_add(t, "< %s %s", c->bus, sc_op_name(c->op));
	else
		sccheck_add(t, "<%s", sc_op_name(c->op));
	switch (c->op) {
	case SC_OP_OPEN:
		sccheck_add(t, " %s", c->bus);
		break;
	case SC_OP_BITTIMING:
		for (i = 0; i < 8; i++)
			sccheck_add(t, " %d", (int)c->bt[i]);
		break;
	case SC_OP_CTRLMODE:
		sccheck_add(t, " %d %d %d", c->ctrl[0], c->ctrl[1], c->ctrl[2]);
		break;
	case SC_OP_SEND:
	case SC_OP_UPDATE:
	case SC_OP_SENDRTR:
		sccheck_id(t, c);
		sccheck_add(t, " %u", c->dlc);
		if (c->op != SC_OP_SENDRTR)
			sccheck_bytes(t, c->data, c->dlc);
		break;
	case SC_OP_ADD:
	case SC_OP_FILTER:
		sccheck_ival(t, c);
		sccheck_id(t, c);
		sccheck_add(t, " %u", c->dlc);
		sccheck_bytes(t, c->data, c->dlc);
		break;
	case SC_OP_MUXFILTER:
		sccheck_ival(t, c);
		sccheck_id(t, c);
		sccheck_add(t, " %zu", c->n_mux);
		for (i = 0; i < c->n_mux; i++)
			sccheck_bytes(t, c->mux[i], CAN_MAX_DLEN);
		break;
	case SC_OP_SUBSCRIBE:
		sccheck_ival(t, c);
		sccheck_id(t, c);
		break;
	case SC_OP_DELETE:
	case SC_OP_UNSUBSCRIBE:
		sccheck_id(t, c);
		break;
	case SC_OP_STATISTICS:
		sccheck_add(t, " %u", c->ms);
		break;
	default:
		break;
	}
	sccheck_add(t, " >");
}

static int sccheck_blanks(const char *s)
{
	return strpbrk(s, " \t\r\n") != NULL;
}

static void sccheck_bounds(const struct sc_cmd *c)
{
	size_t i;

	FUZZ_CHECK((unsigned)c->op < SC_OP_COUNT);
	FUZZ_CHECK(memchr(c->bus, '\0', sizeof(c->bus)) != NULL);
	FUZZ_CHECK(!sccheck_blanks(c->bus));
	FUZZ_CHECK((c->bus[0] != '\0') ==
		   (c->op == SC_OP_OPEN || c->op == SC_OP_BITTIMING ||
		    c->op == SC_OP_CTRLMODE));
	FUZZ_CHECK(c->id <= CAN_EFF_MASK);
	FUZZ_CHECK(c->extended || c->id <= CAN_SFF_MASK);
	FUZZ_CHECK(c->dlc <= CAN_MAX_DLEN);
	for (i = c->dlc; i < CAN_MAX_DLEN; i++)
		FUZZ_CHECK(c->data[i] == 0);
	FUZZ_CHECK(c->op != SC_OP_SENDRTR || c->data[0] == 0);
	FUZZ_CHECK(c->ival_us <= BCMSOCK_MAX_US + 999999);
	FUZZ_CHECK(c->n_mux == 0 || (c->op == SC_OP_MUXFILTER &&
				     c->n_mux >= 2 && c->n_mux <= SC_MUX_MAX));
	FUZZ_CHECK(c->ms <= 3600000);
	for (i = 0; i < 3; i++)
		FUZZ_CHECK(c->ctrl[i] == 0 || c->ctrl[i] == 1);
}

int sccheck_cmd(const char *el, size_t len, struct sc_cmd *cmd, char *detail,
		size_t dsize)
{
	struct sccheck_text t;
	struct sc_cmd again;
	char why[256];
	int rc;

	detail[0] = '\0';
	rc = sc_parse_cmd(el, len, cmd, detail, dsize);
	if (rc < 0) {
		FUZZ_CHECK(rc == -EINVAL);
		FUZZ_CHECK(detail[0] != '\0' &&
			   memchr(detail, '\0', dsize) != NULL);
		return rc;
	}
	FUZZ_CHECK(rc == 0);
	sccheck_bounds(cmd);
	sccheck_format(&t, cmd);
	if (sc_parse_cmd(t.buf, t.len, &again, why, sizeof(why)) < 0) {
		dprintf(2, "%.*s: %s\n", (int)t.len, t.buf, why);
		FUZZ_CHECK(!"a command's canonical text does not parse");
	}
	FUZZ_CHECK(memcmp(&again, cmd, sizeof(again)) == 0);
	return 0;
}

/* conn.c's walk: skipping, splitting, one answer per run of garbage. */
void sccheck_stream(const char *in, size_t size, char *want, int *closes)
{
	struct sc_split sp;
	struct sc_cmd cmd;
	char detail[256];
	size_t off = 0, n = 0;
	int skipping = 0, garbage = 0, done;

	want[n++] = 'h';
	*closes = 0;
	while (off < size && !*closes) {
		if (skipping) {
			off += sc_parse_skip(in + off, size - off, &done);
			skipping = !done;
			continue;
		}
		sc_parse_split(in + off, size - off, &sp);
		FUZZ_CHECK(sp.used <= size - off);
		FUZZ_CHECK(sp.kind == SC_SPLIT_MORE || sp.used > 0);
		off += sp.used;
		switch (sp.kind) {
		case SC_SPLIT_MORE:
			off = size;
			break;
		case SC_SPLIT_GARBAGE:
		case SC_SPLIT_BROKEN:
			if (!garbage)
				want[n++] = 'e';
			garbage = 1;
			break;
		case SC_SPLIT_TOO_LONG:
			garbage = 0;
			skipping = 1;
			want[n++] = 'e';
			break;
		case SC_SPLIT_ELEMENT:
			garbage = 0;
			FUZZ_CHECK(sp.len >= 2 && sp.len <= SC_ELEMENT_MAX);
			if (sccheck_cmd(in + off - sp.len, sp.len, &cmd, detail,
					sizeof(detail)) < 0)
				want[n++] = 'e';
			else if (cmd.op == SC_OP_OPEN)
				/* Every bus fails to open here: refused. */
				want[n++] = 'e', *closes = 1;
			else if (cmd.op == SC_OP_ECHO)
				want[n++] = 'c';
			else if (cmd.op == SC_OP_BITTIMING ||
				 cmd.op == SC_OP_CTRLMODE)
				want[n++] = '?';
			else
				want[n++] = 'e'; /* needs an open bus */
			break;
		}
	}
	want[n] = '\0';
}
