/*
 * socketcand's protocol from bytes: where the next element is in what a
 * peer sent (sc_parse_split) and what one says (sc_parse_cmd). Nothing
 * here touches a socket or the daemon, so any bytes can be fed to it (the
 * fuzz target does). Every field is bounded by its token's length, never
 * by a terminator, and no scanf reads anything: socketcand's unbounded
 * "%s" into a 17-byte name is the reason.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sc/sc.h"

/* Longest part of a token quoted back in an error. */
#define SC_QUOTE 24

static const char *const sc_op_names[SC_OP_COUNT] = {
	[SC_OP_OPEN] = "open",
	[SC_OP_BITTIMING] = "B",
	[SC_OP_CTRLMODE] = "C",
	[SC_OP_ECHO] = "echo",
	[SC_OP_BCMMODE] = "bcmmode",
	[SC_OP_RAWMODE] = "rawmode",
	[SC_OP_CONTROLMODE] = "controlmode",
	[SC_OP_ISOTPMODE] = "isotpmode",
	[SC_OP_SEND] = "send",
	[SC_OP_SENDRTR] = "sendrtr",
	[SC_OP_ADD] = "add",
	[SC_OP_UPDATE] = "update",
	[SC_OP_DELETE] = "delete",
	[SC_OP_FILTER] = "filter",
	[SC_OP_MUXFILTER] = "muxfilter",
	[SC_OP_SUBSCRIBE] = "subscribe",
	[SC_OP_UNSUBSCRIBE] = "unsubscribe",
	[SC_OP_STATISTICS] = "statistics",
};

const char *sc_op_name(enum sc_op op)
{
	return (unsigned)op < SC_OP_COUNT ? sc_op_names[op] : "?";
}

static int sc_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

void sc_parse_split(const char *buf, size_t len, struct sc_split *out)
{
	size_t i = 0, j, limit;

	memset(out, 0, sizeof(*out));
	while (i < len && sc_blank(buf[i]))
		i++;
	out->start = i;
	out->used = i;
	if (i == len) {
		out->kind = SC_SPLIT_MORE;
		return;
	}
	if (buf[i] != '<') {
		for (j = i; j < len && buf[j] != '<'; j++)
			;
		out->kind = SC_SPLIT_GARBAGE;
		out->len = j - i;
		out->used = j;
		return;
	}
	limit = len - i < SC_ELEMENT_MAX ? len : i + SC_ELEMENT_MAX;
	for (j = i + 1; j < limit; j++) {
		if (buf[j] == '>') {
			out->kind = SC_SPLIT_ELEMENT;
			out->len = j + 1 - i;
			out->used = j + 1;
			return;
		}
		if (buf[j] == '<') {
			out->kind = SC_SPLIT_BROKEN;
			out->len = j - i;
			out->used = j;
			return;
		}
	}
	if (limit - i >= SC_ELEMENT_MAX) {
		out->kind = SC_SPLIT_TOO_LONG;
		out->len = limit - i;
		out->used = limit;
		return;
	}
	out->kind = SC_SPLIT_MORE;
}

size_t sc_parse_skip(const char *buf, size_t len, int *done)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] == '>') {
			*done = 1;
			return i + 1;
		}
		if (buf[i] == '<') {
			*done = 1;
			return i;
		}
	}
	*done = 0;
	return len;
}

/* ---- tokens ---- */

struct sc_toks {
	const char *p, *end;
	const char *tok; /* the last one taken */
	size_t len;
};

static int sc_tok(struct sc_toks *t)
{
	while (t->p < t->end && sc_blank(*t->p))
		t->p++;
	if (t->p == t->end)
		return 0;
	t->tok = t->p;
	while (t->p < t->end && !sc_blank(*t->p))
		t->p++;
	t->len = (size_t)(t->p - t->tok);
	return 1;
}

/* The token, or its start, for an error message. */
#define SC_TOK(t) (int)((t)->len < SC_QUOTE ? (t)->len : SC_QUOTE), (t)->tok

static int sc_need(struct sc_toks *t, const char *what, char *detail,
		   size_t dsize)
{
	if (sc_tok(t))
		return 0;
	detail_set(detail, dsize, "%s is missing", what);
	return -EINVAL;
}

static int sc_end(struct sc_toks *t, const char *cmd, char *detail,
		  size_t dsize)
{
	if (!sc_tok(t))
		return 0;
	detail_set(detail, dsize, "'%.*s' after the end of %s", SC_TOK(t), cmd);
	return -EINVAL;
}

static int sc_digit(char ch, unsigned base)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (base == 16 && ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (base == 16 && ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The token as a number of base up to max: 0, -EINVAL or -ERANGE. */
static int sc_number(const struct sc_toks *t, unsigned base, uint64_t max,
		     uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	int d;

	if (t->len == 0 || t->len > 20)
		return t->len == 0 ? -EINVAL : -ERANGE;
	for (i = 0; i < t->len; i++) {
		if ((d = sc_digit(t->tok[i], base)) < 0)
			return -EINVAL;
		if ((uint64_t)d > max || v > (max - (uint64_t)d) / base)
			return -ERANGE;
		v = v * base + (uint64_t)d;
	}
	*out = v;
	return 0;
}

static int sc_dec(struct sc_toks *t, const char *what, uint64_t max,
		  uint64_t *out, char *detail, size_t dsize)
{
	int rc;

	if ((rc = sc_need(t, what, detail, dsize)) < 0)
		return rc;
	if ((rc = sc_number(t, 10, max, out)) == 0)
		return 0;
	detail_set(detail, dsize,
		   "%s '%.*s' is not a decimal number up to %llu", what,
		   SC_TOK(t), (unsigned long long)max);
	return -EINVAL;
}

/* A signed decimal (B's fields, where -1 leaves one out). */
static int sc_int(struct sc_toks *t, const char *what, int32_t *out,
		  char *detail, size_t dsize)
{
	struct sc_toks digits;
	uint64_t v;
	int neg, rc;

	if ((rc = sc_need(t, what, detail, dsize)) < 0)
		return rc;
	neg = t->tok[0] == '-';
	digits = *t;
	digits.tok += neg;
	digits.len -= (size_t)neg;
	if (sc_number(&digits, 10, INT32_MAX, &v) < 0) {
		detail_set(detail, dsize, "%s '%.*s' is not a decimal number",
			   what, SC_TOK(t));
		return -EINVAL;
	}
	*out = neg ? -(int32_t)v : (int32_t)v;
	return 0;
}

/* A data byte: one or two hex digits (python-can sends "{:x}"). */
static int sc_byte(struct sc_toks *t, size_t i, uint8_t *out, char *detail,
		   size_t dsize)
{
	uint64_t v;

	if (!sc_tok(t)) {
		detail_set(detail, dsize, "data byte %zu is missing", i);
		return -EINVAL;
	}
	if (t->len > 2 || sc_number(t, 16, 0xff, &v) < 0) {
		detail_set(detail, dsize,
			   "data byte %zu '%.*s' is not one or two hex digits",
			   i, SC_TOK(t));
		return -EINVAL;
	}
	*out = (uint8_t)v;
	return 0;
}

/*
 * A CAN id in hex. Extended, as socketcand decides, when written with 8
 * digits; also when it does not fit 11 bits (python-can prints ids
 * unpadded) or has bit 31, CAN_EFF_FLAG, set (SavvyCAN marks them so).
 */
static int sc_id(struct sc_toks *t, struct sc_cmd *c, char *detail,
		 size_t dsize)
{
	uint64_t v;
	int rc;

	if ((rc = sc_need(t, "can_id", detail, dsize)) < 0)
		return rc;
	if (t->len > 8 || sc_number(t, 16, UINT32_MAX, &v) < 0) {
		detail_set(detail, dsize,
			   "can_id '%.*s' is not 1 to 8 hex digits", SC_TOK(t));
		return -EINVAL;
	}
	if (v & (CAN_RTR_FLAG | CAN_ERR_FLAG)) {
		detail_set(detail, dsize,
			   "can_id %.*s has the RTR or error flag set (use "
			   "sendrtr for a remote frame)",
			   SC_TOK(t));
		return -EINVAL;
	}
	c->extended = t->len == 8 || (v & CAN_EFF_FLAG) ||
		      (v & CAN_EFF_MASK) > CAN_SFF_MASK;
	c->id = (uint32_t)(v & CAN_EFF_MASK);
	return 0;
}

/* can_dlc and that many data bytes. */
static int sc_frame(struct sc_toks *t, struct sc_cmd *c, int with_data,
		    char *detail, size_t dsize)
{
	uint64_t v;
	size_t i;
	int rc;

	if ((rc = sc_dec(t, "can_dlc", CAN_MAX_DLEN, &v, detail, dsize)) < 0)
		return rc;
	c->dlc = (uint8_t)v;
	for (i = 0; with_data && i < c->dlc; i++)
		if ((rc = sc_byte(t, i, &c->data[i], detail, dsize)) < 0)
			return rc;
	return 0;
}

/* secs usecs: a period or throttle within the kernel's 400 days. */
static int sc_ival(struct sc_toks *t, struct sc_cmd *c, char *detail,
		   size_t dsize)
{
	uint64_t sec, usec;
	int rc;

	if ((rc = sc_dec(t, "secs", BCMSOCK_MAX_US / 1000000, &sec, detail,
			 dsize)) < 0 ||
	    (rc = sc_dec(t, "usecs", 999999, &usec, detail, dsize)) < 0)
		return rc;
	c->ival_us = sec * 1000000 + usec;
	return 0;
}

static int sc_mux(struct sc_toks *t, struct sc_cmd *c, char *detail,
		  size_t dsize)
{
	uint64_t n;
	size_t i, j;
	int rc;

	if ((rc = sc_dec(t, "nframes", SC_MUX_MAX, &n, detail, dsize)) < 0)
		return rc;
	if (n < 2) {
		detail_set(detail, dsize,
			   "nframes %llu: a muxfilter has the multiplexer mask "
			   "and at least one value (2 to %d)",
			   (unsigned long long)n, SC_MUX_MAX);
		return -EINVAL;
	}
	c->n_mux = (size_t)n;
	for (i = 0; i < c->n_mux; i++)
		for (j = 0; j < CAN_MAX_DLEN; j++)
			if ((rc = sc_byte(t, i * CAN_MAX_DLEN + j,
					  &c->mux[i][j], detail, dsize)) < 0)
				return rc;
	return 0;
}

static int sc_bus(struct sc_toks *t, struct sc_cmd *c, char *detail,
		  size_t dsize)
{
	if (t->len >= sizeof(c->bus)) {
		detail_set(detail, dsize,
			   "bus name '%.*s...' is longer than %zu characters",
			   SC_TOK(t), sizeof(c->bus) - 1);
		return -EINVAL;
	}
	memcpy(c->bus, t->tok, t->len);
	c->bus[t->len] = '\0';
	return 0;
}

/* < BUS B bitrate sample_point tq prop_seg phase_seg1 phase_seg2 sjw brp > */
static int sc_bittiming(struct sc_toks *t, struct sc_cmd *c, char *detail,
			size_t dsize)
{
	static const char *const names[8] = {
		"bitrate",    "sample_point", "tq",  "prop_seg",
		"phase_seg1", "phase_seg2",   "sjw", "brp",
	};
	size_t i;
	int rc;

	for (i = 0; i < 8; i++)
		if ((rc = sc_int(t, names[i], &c->bt[i], detail, dsize)) < 0)
			return rc;
	return 0;
}

/* < BUS C listen_only loopback three_samples >, each 0 or 1. */
static int sc_ctrlmode(struct sc_toks *t, struct sc_cmd *c, char *detail,
		       size_t dsize)
{
	static const char *const names[3] = {"listen_only", "loopback",
					     "three_samples"};
	uint64_t v;
	size_t i;
	int rc;

	for (i = 0; i < 3; i++) {
		if ((rc = sc_dec(t, names[i], 1, &v, detail, dsize)) < 0)
			return rc;
		c->ctrl[i] = (int)v;
	}
	return 0;
}

static int sc_args(struct sc_toks *t, struct sc_cmd *c, char *detail,
		   size_t dsize)
{
	uint64_t v;
	int rc = 0;

	switch (c->op) {
	case SC_OP_OPEN:
		if ((rc = sc_need(t, "the bus", detail, dsize)) == 0)
			rc = sc_bus(t, c, detail, dsize);
		return rc;
	case SC_OP_BITTIMING:
		return sc_bittiming(t, c, detail, dsize);
	case SC_OP_CTRLMODE:
		return sc_ctrlmode(t, c, detail, dsize);
	case SC_OP_SEND:
	case SC_OP_SENDRTR:
	case SC_OP_UPDATE:
		if ((rc = sc_id(t, c, detail, dsize)) == 0)
			rc = sc_frame(t, c, c->op != SC_OP_SENDRTR, detail,
				      dsize);
		return rc;
	case SC_OP_ADD:
	case SC_OP_FILTER:
		if ((rc = sc_ival(t, c, detail, dsize)) == 0 &&
		    (rc = sc_id(t, c, detail, dsize)) == 0)
			rc = sc_frame(t, c, 1, detail, dsize);
		return rc;
	case SC_OP_MUXFILTER:
		if ((rc = sc_ival(t, c, detail, dsize)) == 0 &&
		    (rc = sc_id(t, c, detail, dsize)) == 0)
			rc = sc_mux(t, c, detail, dsize);
		return rc;
	case SC_OP_SUBSCRIBE:
		if ((rc = sc_ival(t, c, detail, dsize)) == 0)
			rc = sc_id(t, c, detail, dsize);
		return rc;
	case SC_OP_DELETE:
	case SC_OP_UNSUBSCRIBE:
		return sc_id(t, c, detail, dsize);
	case SC_OP_STATISTICS:
		/* At most an hour between two lines. */
		if ((rc = sc_dec(t, "ival", 3600000, &v, detail, dsize)) == 0)
			c->ms = (uint32_t)v;
		return rc;
	default:
		return 0; /* the modes and echo take nothing */
	}
}

/* Every byte between '<' and '>' printable ASCII or a blank. */
static int sc_printable(const char *p, size_t len, char *detail, size_t dsize)
{
	size_t i;
	unsigned char ch;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)p[i];
		if ((ch < 0x20 || ch > 0x7e) && !sc_blank((char)ch)) {
			detail_set(detail, dsize,
				   "byte 0x%02x at %zu is not printable ASCII",
				   ch, i + 1);
			return -EINVAL;
		}
	}
	return 0;
}

static int sc_lookup(const struct sc_toks *t, enum sc_op *op)
{
	unsigned i;

	for (i = 0; i < SC_OP_COUNT; i++) {
		if (i == SC_OP_BITTIMING || i == SC_OP_CTRLMODE)
			continue;
		if (strlen(sc_op_names[i]) == t->len &&
		    memcmp(sc_op_names[i], t->tok, t->len) == 0) {
			*op = (enum sc_op)i;
			return 0;
		}
	}
	return -ENOENT;
}

int sc_parse_cmd(const char *el, size_t len, struct sc_cmd *cmd, char *detail,
		 size_t dsize)
{
	struct sc_toks t = {.p = el + 1, .end = el + len - 1};
	struct sc_toks name, second;
	int rc;

	memset(cmd, 0, sizeof(*cmd));
	if (len < 2 || el[0] != '<' || el[len - 1] != '>') {
		detail_set(detail, dsize, "not an element");
		return -EINVAL;
	}
	if ((rc = sc_printable(t.p, (size_t)(t.end - t.p), detail, dsize)) < 0)
		return rc;
	if (!sc_tok(&t)) {
		detail_set(detail, dsize, "empty element");
		return -EINVAL;
	}
	name = t;
	if (sc_lookup(&name, &cmd->op) < 0) {
		/* < BUS B ... > and < BUS C ... > lead with the bus. */
		second = t;
		if (sc_tok(&second) && second.len == 1 &&
		    (second.tok[0] == 'B' || second.tok[0] == 'C')) {
			cmd->op = second.tok[0] == 'B' ? SC_OP_BITTIMING
						       : SC_OP_CTRLMODE;
			if ((rc = sc_bus(&name, cmd, detail, dsize)) < 0)
				return rc;
			t = second;
		} else {
			detail_set(detail, dsize, "unknown command '%.*s'",
				   SC_TOK(&name));
			return -EINVAL;
		}
	}
	if ((rc = sc_args(&t, cmd, detail, dsize)) < 0)
		return rc;
	return sc_end(&t, sc_op_name(cmd->op), detail, dsize);
}
