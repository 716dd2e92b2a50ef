/*
 * The output queue's encoder for socketcand's protocol: received frames
 * and events as text elements, written straight into the client's output
 * buffer. The formats are socketcand's byte for byte, because clients
 * compare and split them: RAW mode's "< frame 123 1700000000.123456
 * 11223344 >" (upper-case contiguous hex, an empty frame keeping both
 * spaces, "< rtr ... DLC >", "< error CLASS TIME >"), and BCM mode's
 * "< frame 123 1700000000.123456 11 22 33 44  >" (each byte followed by a
 * space). Digits are written by hand: this runs for every frame.
 */
#include <errno.h>
#include <string.h>

#include <event2/buffer.h>

#include "sc/sc.h"

/* The longest error text sent; details are shorter. */
#define SC_ERROR_MAX 256

static const char sc_hexdigits[] = "0123456789ABCDEF";

static char *sc_put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define SC_PUT(p, lit) sc_put((p), (lit), sizeof(lit) - 1)

/* v in exactly digits upper-case hex digits. */
static char *sc_hex(char *p, uint32_t v, int digits)
{
	int i;

	for (i = digits - 1; i >= 0; i--) {
		p[i] = sc_hexdigits[v & 0xf];
		v >>= 4;
	}
	return p + digits;
}

static char *sc_udec(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* "SEC.USEC", as socketcand's "%ld.%06ld" of the frame's timeval. */
static char *sc_time(char *p, uint64_t ns)
{
	uint32_t usec = (uint32_t)(ns % 1000000000u / 1000u);
	int i;

	p = sc_udec(p, ns / 1000000000u);
	*p++ = '.';
	for (i = 5; i >= 0; i--) {
		p[i] = (char)('0' + usec % 10);
		usec /= 10;
	}
	return p + 6;
}

/* "%03X" of an 11-bit id or "%08X" of a 29-bit one. */
static char *sc_id(char *p, canid_t id)
{
	if (id & CAN_EFF_FLAG)
		return sc_hex(p, id & CAN_EFF_MASK, 8);
	return sc_hex(p, id & CAN_SFF_MASK, 3);
}

size_t sc_encode_raw(char *buf, const struct canfd_frame *cf, uint64_t ns)
{
	uint32_t class = cf->can_id & CAN_EFF_MASK;
	char *p = buf;
	size_t i;

	if (cf->can_id & CAN_ERR_FLAG) {
		/* "%03X": three digits at least, all the class needs. */
		for (i = 3; i < 8 && (class >> (4 * i)) != 0; i++)
			;
		p = SC_PUT(p, "< error ");
		p = sc_hex(p, class, (int)i);
		*p++ = ' ';
		p = sc_time(p, ns);
		p = SC_PUT(p, " >");
	} else if (cf->can_id & CAN_RTR_FLAG) {
		p = SC_PUT(p, "< rtr ");
		p = sc_id(p, cf->can_id);
		*p++ = ' ';
		p = sc_time(p, ns);
		*p++ = ' ';
		p = sc_udec(p, cf->len);
		p = SC_PUT(p, " >");
	} else {
		p = SC_PUT(p, "< frame ");
		p = sc_id(p, cf->can_id);
		*p++ = ' ';
		p = sc_time(p, ns);
		*p++ = ' ';
		for (i = 0; i < cf->len && i < CAN_MAX_DLEN; i++)
			p = sc_hex(p, cf->data[i], 2);
		p = SC_PUT(p, " >");
	}
	return (size_t)(p - buf);
}

size_t sc_encode_bcm(char *buf, const struct canfd_frame *cf, uint64_t ns)
{
	char *p = buf;
	size_t i;

	p = SC_PUT(p, "< frame ");
	p = sc_id(p, cf->can_id);
	*p++ = ' ';
	p = sc_time(p, ns);
	*p++ = ' ';
	for (i = 0; i < cf->len && i < CAN_MAX_DLEN; i++) {
		p = sc_hex(p, cf->data[i], 2);
		*p++ = ' ';
	}
	p = SC_PUT(p, " >");
	return (size_t)(p - buf);
}

int sc_encode_frames(struct outq *q, const struct rx_batch *b)
{
	struct evbuffer_iovec vec;
	char *p;
	size_t i;

	if (b->count == 0)
		return 0;
	if (evbuffer_reserve_space(q->buf, b->count * SC_FRAME_TEXT_MAX, &vec,
				   1) < 1)
		return -ENOMEM;
	p = vec.iov_base;
	for (i = 0; i < b->count; i++) {
		/* Released socketcand has no CAN FD; the channel takes none. */
		if (b->frames[i].is_fd)
			continue;
		p += sc_encode_raw(p, b->frames[i].cf,
				   b->frames[i].timestamp_ns);
	}
	vec.iov_len = (size_t)(p - (char *)vec.iov_base);
	return evbuffer_commit_space(q->buf, &vec, 1) < 0 ? -ENOMEM : 0;
}

int sc_encode_say(struct outq *q, const char *text)
{
	return evbuffer_add_printf(q->buf, "< %s >", text) < 0 ? -ENOMEM : 0;
}

int sc_encode_error(struct outq *q, const char *text)
{
	char safe[SC_ERROR_MAX];
	size_t i;

	/* Clients cut elements at '<' and '>': none may be inside one. */
	for (i = 0; text[i] != '\0' && i < sizeof(safe) - 1; i++) {
		unsigned char ch = (unsigned char)text[i];

		safe[i] = ch == '<'   ? '('
			  : ch == '>' ? ')'
			  : ch < 0x20 ? ' '
				      : (char)ch;
	}
	safe[i] = '\0';
	return evbuffer_add_printf(q->buf, "< error %s >", safe) < 0 ? -ENOMEM
								     : 0;
}

static int sc_encode_monitor(struct outq *q, const struct evt *e)
{
	char buf[SC_FRAME_TEXT_MAX];
	size_t n;

	/* Timeouts are never asked for; FD monitors cannot be made. */
	if (e->u.monitor.timeout || e->u.monitor.is_fd)
		return 0;
	n = sc_encode_bcm(buf, e->u.monitor.frame, e->u.monitor.timestamp_ns);
	return evbuffer_add(q->buf, buf, n) < 0 ? -ENOMEM : 0;
}

int sc_encode_event(struct outq *q, const struct evt *e)
{
	struct sc_conn *c = q->owner;

	switch (e->kind) {
	case EVT_MONITOR:
		return sc_encode_monitor(q, e);
	case EVT_DROPS:
		/*
		 * The protocol has no word for lost frames; an error element
		 * is what its clients log, and the daemon's log keeps it.
		 */
		log_warn("client %u (%s): %s", c->s->id, c->s->who, e->detail);
		return sc_encode_error(q, e->detail);
	case EVT_LINK:
		return e->u.link.err != 0 ? sc_encode_error(q, e->detail) : 0;
	case EVT_RIGHTS:
	case EVT_SHUTDOWN:
		return sc_encode_error(q, e->detail);
	default:
		/* State, configuration, task expiry: nothing to say them in. */
		return 0;
	}
}
