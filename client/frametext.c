/*
 * can-utils text formats. The layouts follow can-utils' lib.c
 * (parse_canframe, sprint_canframe, sprint_long_canframe) and candump.c, so
 * output can be diffed against candump and fed to canplayer.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "frametext.h"
#include "timetext.h"

/* The flag bits of a raw SocketCAN id, as they appear in 8-digit ids. */
#define FT_EFF_FLAG 0x80000000u
#define FT_RTR_FLAG 0x40000000u
#define FT_ERR_FLAG 0x20000000u
#define FT_EFF_MASK 0x1fffffffu
#define FT_SFF_MASK 0x000007ffu

#define FT_CC_MAX 8
#define FT_FD_MAX 64

/* snprintf-like output: counts what the text needs, stores what fits. */
struct frametext_out {
	char *buf;
	size_t size;
	size_t len;
};

static const char frametext_hex[] = "0123456789ABCDEF";

static int frametext_fail(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return CAND_EINVAL;
}

static int frametext_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int frametext_fd_len_valid(unsigned len)
{
	switch (len) {
	case 12:
	case 16:
	case 20:
	case 24:
	case 32:
	case 48:
	case 64:
		return 1;
	default:
		return len <= FT_CC_MAX;
	}
}

/* Parses the id up to the first '#' and returns a pointer behind it. */
static const char *frametext_parse_id(const char *s, struct cand_frame *f,
				      const char **why)
{
	const char *hash;
	uint32_t raw = 0;
	size_t i, digits;
	int n;

	hash = strchr(s, '#');
	if (hash == NULL) {
		frametext_fail(why, "no '#' after the CAN id");
		return NULL;
	}
	digits = (size_t)(hash - s);
	if (digits != 3 && digits != 8) {
		frametext_fail(why, "the CAN id needs 3 hex digits (standard) "
				    "or 8 (extended)");
		return NULL;
	}
	for (i = 0; i < digits; i++) {
		if ((n = frametext_nibble(s[i])) < 0) {
			frametext_fail(why, "the CAN id is not hexadecimal");
			return NULL;
		}
		raw = raw << 4 | (uint32_t)n;
	}

	if (digits == 3) {
		/* can-utils would pass 0x800-0xFFF on; the bus cannot. */
		if (raw > FT_SFF_MASK) {
			frametext_fail(why, "a standard CAN id must be at most "
					    "7FF");
			return NULL;
		}
		f->id = raw;
		return hash + 1;
	}
	/* can-utils never prints these, so they can only be typos. */
	if (raw & (FT_EFF_FLAG | FT_RTR_FLAG)) {
		frametext_fail(why, "an extended CAN id must be at most "
				    "1FFFFFFF (or have the error flag "
				    "20000000)");
		return NULL;
	}
	f->id = raw & FT_EFF_MASK;
	if (raw & FT_ERR_FLAG)
		f->flags |= CAND_FRAME_ERROR;
	else
		f->flags |= CAND_FRAME_EXTENDED;
	return hash + 1;
}

static int frametext_parse_remote(const char *p, struct cand_frame *f,
				  const char **why)
{
	if (f->flags & CAND_FRAME_ERROR)
		return frametext_fail(
			why, "an error frame cannot be a remote request");
	f->flags |= CAND_FRAME_REMOTE;
	if (*p == '\0')
		return 0;
	if (*p < '0' || *p > '8')
		return frametext_fail(why, "the remote request length must be "
					   "one digit 0-8");
	f->len = (uint8_t)(*p - '0');
	p++;
	if (*p == '_')
		return frametext_fail(why, "raw DLC values ('_') are not "
					   "supported");
	if (*p != '\0')
		return frametext_fail(why, "junk after the remote request "
					   "length");
	return 0;
}

static int frametext_parse_data(const char *p, struct cand_frame *f,
				const char **why)
{
	size_t max, n = 0;
	int hi, lo;

	max = (f->flags & CAND_FRAME_FD) ? FT_FD_MAX : FT_CC_MAX;
	for (;;) {
		/* One optional '.' before each byte, as parse_canframe. */
		if (*p == '.')
			p++;
		if (*p == '\0')
			break;
		if (*p == '.')
			return frametext_fail(why, "two '.' separators in a "
						   "row");
		if (*p == '_')
			return frametext_fail(why, "raw DLC values ('_') are "
						   "not supported");
		if (n == max)
			return frametext_fail(
				why, max == FT_CC_MAX
					     ? "data longer than 8 bytes for a "
					       "classic frame (use ## for CAN "
					       "FD)"
					     : "data longer than 64 bytes for "
					       "a CAN FD frame");
		if ((hi = frametext_nibble(p[0])) < 0)
			return frametext_fail(why, "the data is not "
						   "hexadecimal");
		if (p[1] == '\0' || p[1] == '.')
			return frametext_fail(why, "odd number of hex digits "
						   "in a data byte");
		if ((lo = frametext_nibble(p[1])) < 0)
			return frametext_fail(why, "the data is not "
						   "hexadecimal");
		f->data[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	f->len = (uint8_t)n;
	return 0;
}

int frametext_parse(const char *s, struct cand_frame *f, const char **why)
{
	const char *p;
	int flags;

	memset(f, 0, sizeof(*f));
	if (s == NULL || *s == '\0')
		return frametext_fail(why, "empty frame");
	if ((p = frametext_parse_id(s, f, why)) == NULL)
		return CAND_EINVAL;

	if (*p == 'R' || *p == 'r')
		return frametext_parse_remote(p + 1, f, why);

	if (*p == '#') {
		if (f->flags & CAND_FRAME_ERROR)
			return frametext_fail(
				why, "an error frame cannot be CAN FD");
		if ((flags = frametext_nibble(p[1])) < 0)
			return frametext_fail(why, "'##' must be followed by "
						   "one hex digit of CAN FD "
						   "flags");
		/* 0x4 is the kernel's FDF marker and says nothing new. */
		f->flags |= CAND_FRAME_FD;
		if (flags & 0x1)
			f->flags |= CAND_FRAME_BRS;
		if (flags & 0x2)
			f->flags |= CAND_FRAME_ESI;
		p += 2;
	}
	return frametext_parse_data(p, f, why);
}

int frametext_parse_log(const char *line, struct cand_frame *f,
			const char **why)
{
	char ifname[CAND_IFNAMSIZ], frame[FRAMETEXT_MAX];
	const char *p = line, *start;
	uint64_t sec = 0, frac = 0;
	size_t n, iflen;
	int digits = 0, rc;

	if (line == NULL || *p != '(')
		return frametext_fail(why, "a log line starts with "
					   "(seconds.microseconds)");
	for (p++; *p >= '0' && *p <= '9'; p++, digits++)
		sec = sec * 10 + (uint64_t)(*p - '0');
	if (digits == 0 || digits > 11 || *p != '.')
		return frametext_fail(why, "bad timestamp in the log line");
	for (p++, digits = 0; *p >= '0' && *p <= '9'; p++, digits++) {
		if (digits < 9)
			frac = frac * 10 + (uint64_t)(*p - '0');
	}
	if (digits == 0 || *p != ')')
		return frametext_fail(why, "bad timestamp in the log line");
	for (; digits < 9; digits++)
		frac *= 10;
	/* Eleven digits can hold more seconds than 64 bits of ns. */
	if (sec > (UINT64_MAX - frac) / 1000000000u)
		return frametext_fail(why, "the log line's timestamp is too "
					   "large");
	p++;

	while (*p == ' ' || *p == '\t')
		p++;
	start = p;
	while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n')
		p++;
	n = (size_t)(p - start);
	if (n == 0 || n >= sizeof(ifname))
		return frametext_fail(why, "bad interface name in the log "
					   "line");
	memcpy(ifname, start, n);
	ifname[n] = '\0';
	iflen = n;

	while (*p == ' ' || *p == '\t')
		p++;
	start = p;
	while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' &&
	       *p != '\n')
		p++;
	n = (size_t)(p - start);
	if (n == 0 || n >= sizeof(frame))
		return frametext_fail(why, "no frame in the log line");
	memcpy(frame, start, n);
	frame[n] = '\0';

	if ((rc = frametext_parse(frame, f, why)) < 0)
		return rc;
	memcpy(f->ifname, ifname, iflen + 1);
	f->timestamp_ns = sec * 1000000000u + frac;
	return 0;
}

void frametext_view_init(struct frametext_view *v, int width)
{
	memset(v, 0, sizeof(*v));
	v->ifwidth = width;
}

static void frametext_putc(struct frametext_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void frametext_puts(struct frametext_out *o, const char *s)
{
	while (*s != '\0')
		frametext_putc(o, *s++);
}

static void frametext_spaces(struct frametext_out *o, int n)
{
	while (n-- > 0)
		frametext_putc(o, ' ');
}

static void frametext_hexnum(struct frametext_out *o, uint32_t v, int digits)
{
	while (digits-- > 0)
		frametext_putc(o, frametext_hex[(v >> (digits * 4)) & 0xf]);
}

static int frametext_finish(struct frametext_out *o)
{
	if (o->size > 0)
		o->buf[o->len < o->size ? o->len : o->size - 1] = '\0';
	return (int)o->len;
}

static size_t frametext_ifname_len(const struct cand_frame *f)
{
	return strnlen(f->ifname, sizeof(f->ifname));
}

/* The id as sprint_canframe and sprint_long_canframe show it. */
static void frametext_put_id(struct frametext_out *o,
			     const struct cand_frame *f)
{
	if (f->flags & CAND_FRAME_ERROR)
		frametext_hexnum(o, (f->id & FT_EFF_MASK) | FT_ERR_FLAG, 8);
	else if (f->flags & CAND_FRAME_EXTENDED)
		frametext_hexnum(o, f->id & FT_EFF_MASK, 8);
	else
		frametext_hexnum(o, f->id & FT_SFF_MASK, 3);
}

static int frametext_len(const struct cand_frame *f)
{
	int max = (f->flags & CAND_FRAME_FD) ? FT_FD_MAX : FT_CC_MAX;

	return f->len > max ? max : f->len;
}

static void frametext_put_compact(struct frametext_out *o,
				  const struct cand_frame *f, int sep)
{
	int i, len = frametext_len(f);

	frametext_put_id(o, f);
	frametext_putc(o, '#');
	if ((f->flags & (CAND_FRAME_REMOTE | CAND_FRAME_FD)) ==
	    CAND_FRAME_REMOTE) {
		frametext_putc(o, 'R');
		if (len > 0)
			frametext_putc(o, frametext_hex[len]);
		return;
	}
	if (f->flags & CAND_FRAME_FD) {
		frametext_putc(o, '#');
		frametext_putc(
			o,
			frametext_hex[((f->flags & CAND_FRAME_BRS) ? 0x1 : 0) |
				      ((f->flags & CAND_FRAME_ESI) ? 0x2 : 0)]);
		if (sep && len > 0)
			frametext_putc(o, '.');
	}
	for (i = 0; i < len; i++) {
		if (sep && i > 0)
			frametext_putc(o, '.');
		frametext_hexnum(o, f->data[i], 2);
	}
}

int frametext_format_frame(char *buf, size_t size, const struct cand_frame *f)
{
	struct frametext_out o = {buf, size, 0};

	frametext_put_compact(&o, f, 0);
	return frametext_finish(&o);
}

int frametext_format_dotted(char *buf, size_t size, const struct cand_frame *f)
{
	struct frametext_out o = {buf, size, 0};

	frametext_put_compact(&o, f, 1);
	return frametext_finish(&o);
}

/* candump's %*s: right-aligned in the view's width. */
static void frametext_put_ifname(struct frametext_out *o,
				 const struct cand_frame *f,
				 const struct frametext_view *v)
{
	size_t n = frametext_ifname_len(f);
	size_t i;

	if (v != NULL)
		frametext_spaces(o, v->ifwidth - (int)n);
	for (i = 0; i < n; i++)
		frametext_putc(o, f->ifname[i]);
}

/* The printable bytes, else '.', between quotes in a fixed column. */
static void frametext_put_ascii(struct frametext_out *o,
				const struct cand_frame *f, int len)
{
	int i;

	frametext_spaces(o, 3 * (FT_CC_MAX - len) + 4 - 1);
	frametext_putc(o, '\'');
	for (i = 0; i < len; i++)
		frametext_putc(o, f->data[i] > 0x1f && f->data[i] < 0x7f
					  ? (char)f->data[i]
					  : '.');
	frametext_putc(o, '\'');
}

static void frametext_put_long(struct frametext_out *o,
			       const struct cand_frame *f, unsigned flags)
{
	int i, len = frametext_len(f);

	if (!(f->flags & (CAND_FRAME_ERROR | CAND_FRAME_EXTENDED)) &&
	    (flags & FRAMETEXT_INDENT))
		frametext_spaces(o, 5);
	frametext_put_id(o, f);
	frametext_puts(o, "  ");

	if (f->flags & CAND_FRAME_FD) {
		frametext_putc(o, '[');
		frametext_putc(o, (char)('0' + len / 10));
		frametext_putc(o, (char)('0' + len % 10));
		frametext_puts(o, "] ");
	} else {
		frametext_puts(o, " [");
		frametext_putc(o, (char)('0' + len));
		frametext_puts(o, "] ");
		if (f->flags & CAND_FRAME_REMOTE) {
			frametext_puts(o, " remote request");
			return;
		}
	}

	for (i = 0; i < len; i++) {
		frametext_putc(o, ' ');
		frametext_hexnum(o, f->data[i], 2);
	}
	/* The marker and the text sit in a fixed column behind 8 bytes. */
	if (len > FT_CC_MAX)
		return;
	if (f->flags & CAND_FRAME_ERROR) {
		frametext_spaces(o, 3 * (FT_CC_MAX - len) + 13 - 10);
		frametext_puts(o, "ERRORFRAME");
	} else if (flags & FRAMETEXT_ASCII)
		frametext_put_ascii(o, f, len);
}

int frametext_format_long(char *buf, size_t size, const struct cand_frame *f,
			  unsigned flags)
{
	struct frametext_out o = {buf, size, 0};

	frametext_put_long(&o, f, flags);
	return frametext_finish(&o);
}

/* candump's colours, one per interface in the order they showed up. */
static const char *const frametext_colors[] = {
	"\33[1m\33[34m", "\33[1m\33[31m", "\33[1m\33[32m",
	"\33[1m",	 "\33[1m\33[35m", "\33[1m\33[36m",
};
#define FT_COLOR_OFF "\33[0m"

static const char *frametext_color(struct frametext_view *v,
				   const struct cand_frame *f)
{
	size_t n = sizeof(frametext_colors) / sizeof(frametext_colors[0]);
	int i;

	for (i = 0; i < v->n_seen; i++)
		if (strncmp(v->seen[i], f->ifname, CAND_IFNAMSIZ) == 0)
			break;
	if (i == v->n_seen && i < FRAMETEXT_COLOR_IFS) {
		memcpy(v->seen[i], f->ifname, CAND_IFNAMSIZ);
		v->n_seen++;
	}
	return frametext_colors[(size_t)i % n];
}

static void frametext_view_update(struct frametext_view *v,
				  const struct cand_frame *f)
{
	int n = (int)frametext_ifname_len(f);

	if (n > v->ifwidth)
		v->ifwidth = n;
	if ((f->flags & (CAND_FRAME_EXTENDED | CAND_FRAME_ERROR)) ==
	    CAND_FRAME_EXTENDED)
		v->indent_sff = 1;
}

/* The layout of candump.c's printf()s around fprint_long_canframe(). */
int frametext_format_candump(char *buf, size_t size, const struct cand_frame *f,
			     struct frametext_view *v)
{
	static const char *const extra[] = {"- -", "B -", "- E", "B E"};
	struct frametext_out o = {buf, size, 0};
	const char *color = "";
	char stamp[64];

	frametext_view_update(v, f);
	if (v->color > 0)
		color = frametext_color(v, f);
	frametext_putc(&o, ' ');
	if (v->color > 2)
		frametext_puts(&o, color);
	timetext_format_stamp(stamp, sizeof(stamp), v->stamp, f->timestamp_ns,
			      &v->stamp_ref_us);
	frametext_puts(&o, stamp);
	frametext_putc(&o, ' ');
	if (v->color > 0 && v->color < 3)
		frametext_puts(&o, color);
	frametext_put_ifname(&o, f, v);
	if (v->flags & FRAMETEXT_EXTRA) {
		frametext_puts(&o, (f->flags & CAND_FRAME_LOCAL) ? "  TX "
								 : "  RX ");
		frametext_puts(&o,
			       extra[((f->flags & CAND_FRAME_BRS) ? 1 : 0) |
				     ((f->flags & CAND_FRAME_ESI) ? 2 : 0)]);
	}
	if (v->color == 1)
		frametext_puts(&o, FT_COLOR_OFF);
	frametext_puts(&o, "  ");
	frametext_put_long(&o, f,
			   (v->flags & FRAMETEXT_ASCII) |
				   (v->indent_sff ? FRAMETEXT_INDENT : 0));
	if (v->color > 1)
		frametext_puts(&o, FT_COLOR_OFF);
	return frametext_finish(&o);
}

int frametext_format_log(char *buf, size_t size, const struct cand_frame *f,
			 struct frametext_view *v)
{
	struct frametext_out o = {buf, size, 0};
	char ts[48];

	if (v != NULL)
		frametext_view_update(v, f);
	snprintf(ts, sizeof(ts), "(%010llu.%06llu) ",
		 (unsigned long long)(f->timestamp_ns / 1000000000u),
		 (unsigned long long)(f->timestamp_ns % 1000000000u / 1000u));
	frametext_puts(&o, ts);
	frametext_put_ifname(&o, f, v);
	frametext_putc(&o, ' ');
	frametext_put_compact(&o, f, 0);
	if (v != NULL && (v->flags & FRAMETEXT_EXTRA))
		frametext_puts(&o, (f->flags & CAND_FRAME_LOCAL) ? " T" : " R");
	return frametext_finish(&o);
}
