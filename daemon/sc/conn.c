/*
 * One socketcand connection: an admitted peer's session, its commands in
 * (elements cut from the byte stream wherever TCP split or joined them),
 * and the flow control pb/conn.c has too: commands are read only while the
 * output has room, and not while a send waits for TX room.
 *
 * Raw mode's "< ok >" must reach the client alone: python-can reads it
 * with one recv() and compares the whole string, so a frame read with it
 * breaks the connection. The channel receives from the moment the ok is
 * queued, so no frame sent after the peer has read it is missed, but what
 * it gets waits behind the ok (outq_hold's mark) until the peer has surely
 * read the ok: its next bytes prove that, and otherwise SC_RAW_HOLD_MS
 * after the ok left our buffer. Nothing is lost meanwhile (the watermarks
 * count what waits); the first frames are only late, with their own
 * timestamps.
 *
 * As in pb/conn.c, a connection is freed only from its own read callback
 * or at shutdown; sc_conn_kill() shuts the socket down so that the read
 * callback runs next and frees it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "sc/sc.h"

#define SC_RAW_HOLD_MS 200
/* The longest piece of garbage quoted back in an error. */
#define SC_GARBAGE_QUOTE 32

static void sc_conn_on_read(evutil_socket_t fd, short what, void *arg);
static void sc_conn_on_hold(evutil_socket_t fd, short what, void *arg);
static void sc_conn_on_low(void *owner);
static void sc_conn_fail(void *owner, const char *why);
static void sc_conn_process(struct sc_conn *c);

static const struct outq_codec sc_conn_codec = {
	.frames = sc_encode_frames,
	.event = sc_encode_event,
	.on_low = sc_conn_on_low,
	.fail = sc_conn_fail,
};

int sc_conn_new(struct cand_ctx *ctx, int fd, const struct ident *id)
{
	struct sc_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	c->ctx = ctx;
	c->fd = fd;
	c->ev_read = event_new(ctx->base, fd, EV_READ | EV_PERSIST,
			       sc_conn_on_read, c);
	c->ev_hold = evtimer_new(ctx->base, sc_conn_on_hold, c);
	if (c->ev_read == NULL || c->ev_hold == NULL ||
	    event_add(c->ev_read, NULL) < 0 ||
	    (c->s = sess_new(ctx, id, fd, &sc_conn_codec, c)) == NULL) {
		c->fd = -1; /* the caller closes it */
		sc_conn_free(c);
		return -ENOMEM;
	}
	TAILQ_INSERT_TAIL(&ctx->sc->conns, c, entry);
	ctx->sc->n_conns++;
	sc_conn_say(c, "hi");
	outq_flush(&c->s->q);
	return 0;
}

void sc_conn_free(struct sc_conn *c)
{
	if (c->s != NULL) {
		TAILQ_REMOVE(&c->ctx->sc->conns, c, entry);
		c->ctx->sc->n_conns--;
		/* Its tasks, monitors, channel and a waiting send end here. */
		sess_free(c->s);
	}
	sc_stats_stop(c);
	free(c->tasks);
	free(c->monitors);
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_hold != NULL)
		event_free(c->ev_hold);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

void sc_conn_kill(struct sc_conn *c, const char *why)
{
	if (c->dead)
		return;
	log_info("client %u (%s): %s; disconnecting", c->s->id, c->s->who, why);
	c->dead = 1;
	evtimer_del(c->ev_hold);
	sc_stats_stop(c);
	sess_pause(c->s);
	outq_stop(&c->s->q);
	shutdown(c->fd, SHUT_RDWR);
	event_add(c->ev_read, NULL);
}

static void sc_conn_fail(void *owner, const char *why)
{
	sc_conn_kill(owner, why);
}

void sc_conn_say(struct sc_conn *c, const char *text)
{
	if (!c->s->q.dead && sc_encode_say(&c->s->q, text) < 0)
		sc_conn_kill(c, "cannot queue a reply");
}

/* The format is checked at sc_conn_error()'s callers. */
static void sc_conn_verror(struct sc_conn *c, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void sc_conn_verror(struct sc_conn *c, const char *fmt, va_list ap)
{
	char text[256];

	vsnprintf(text, sizeof(text), fmt, ap);
	if (!c->s->q.dead && sc_encode_error(&c->s->q, text) < 0)
		sc_conn_kill(c, "cannot queue a reply");
}

void sc_conn_error(struct sc_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sc_conn_verror(c, fmt, ap);
	va_end(ap);
}

void sc_conn_refuse(struct sc_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sc_conn_verror(c, fmt, ap);
	va_end(ap);
	c->close_when_sent = 1;
}

/* ---- raw mode's first frames ---- */

void sc_conn_hold(struct sc_conn *c)
{
	int rc;

	outq_hold(&c->s->q, 1);
	c->holding = SC_HOLD_OK;
	if ((rc = chan_set_quiet(c->s->chan, 0)) < 0) {
		sc_conn_release(c);
		log_warn("client %u (%s): raw mode: %s", c->s->id, c->s->who,
			 strerror(-rc));
		sc_conn_error(c, "cannot receive frames: %s", strerror(-rc));
	}
}

/* The ok is out of our buffer: the peer gets SC_RAW_HOLD_MS to read it. */
static void sc_conn_hold_arm(struct sc_conn *c)
{
	struct timeval tv = {0, SC_RAW_HOLD_MS * 1000};

	if (c->holding != SC_HOLD_OK || c->dead || outq_unheld(&c->s->q) > 0)
		return;
	c->holding = SC_HOLD_FRAMES;
	evtimer_add(c->ev_hold, &tv);
}

void sc_conn_release(struct sc_conn *c)
{
	if (c->holding == SC_HOLD_NONE)
		return;
	c->holding = SC_HOLD_NONE;
	evtimer_del(c->ev_hold);
	outq_hold(&c->s->q, 0);
}

static void sc_conn_on_hold(evutil_socket_t fd, short what, void *arg)
{
	struct sc_conn *c = arg;

	(void)fd;
	(void)what;
	sc_conn_release(c);
	outq_flush(&c->s->q);
}

/* ---- reading commands ---- */

static void sc_conn_update_reading(struct sc_conn *c)
{
	int pause;

	if (c->dead || c->closing)
		return;
	pause = c->sending || c->close_when_sent || outq_full(&c->s->q);
	if (pause && !c->reading_paused)
		event_del(c->ev_read);
	else if (!pause && c->reading_paused)
		event_add(c->ev_read, NULL);
	c->reading_paused = pause;
}

static void sc_conn_on_low(void *owner)
{
	struct sc_conn *c = owner;

	if (c->dead)
		return;
	if (c->close_when_sent) {
		if (outq_backlog(&c->s->q) == 0)
			sc_conn_kill(c, "refused");
		return;
	}
	sess_resume(c->s);
	sc_conn_hold_arm(c);
	if (c->reading_paused && !c->sending && !c->closing) {
		/* What waited in the buffer first; replies go out next round.
		 */
		sc_conn_process(c);
		outq_flush_later(&c->s->q);
	}
}

void sc_conn_resume(struct sc_conn *c)
{
	sc_conn_process(c);
	outq_flush(&c->s->q);
}

/* Bytes outside an element: said once per run, then ignored. */
static void sc_conn_garbage(struct sc_conn *c, const char *p, size_t len,
			    const char *what)
{
	size_t n = len < SC_GARBAGE_QUOTE ? len : SC_GARBAGE_QUOTE;

	if (c->in_garbage)
		return;
	c->in_garbage = 1;
	log_info("client %u (%s): %s ignored (%zu bytes)", c->s->id, c->s->who,
		 what, len);
	sc_conn_error(c, "%s ignored: '%.*s%s'", what, (int)n, p,
		      n < len ? "..." : "");
}

/* One item of the stream: a command, or an error saying why it is none. */
static void sc_conn_item(struct sc_conn *c, const struct sc_item *it)
{
	switch (it->kind) {
	case SC_ITEM_GARBAGE:
		sc_conn_garbage(c, it->text, it->len,
				"bytes outside any element");
		return;
	case SC_ITEM_BROKEN:
		sc_conn_garbage(c, it->text, it->len, "an unfinished element");
		return;
	default:
		break;
	}
	c->in_garbage = 0;
	if (it->kind == SC_ITEM_TOO_LONG) {
		log_info("client %u (%s): element over %d bytes ignored",
			 c->s->id, c->s->who, SC_ELEMENT_MAX);
		sc_conn_error(c,
			      "element longer than %d bytes ignored up to "
			      "its end",
			      SC_ELEMENT_MAX);
	} else if (it->kind == SC_ITEM_BAD) {
		log_info("client %u (%s): bad command: %s", c->s->id, c->s->who,
			 it->detail);
		sc_conn_error(c, "%s", it->detail);
	} else {
		c->dispatching = 1;
		sc_cmd_run(c, &it->cmd);
		c->dispatching = 0;
	}
}

static void sc_conn_process(struct sc_conn *c)
{
	struct sc_item it;

	while (!c->dead && !c->sending && !c->close_when_sent &&
	       !outq_full(&c->s->q) && c->in_off < c->in_len) {
		c->in_off += sc_parse_next(&c->stream, c->in + c->in_off,
					   c->in_len - c->in_off, &it);
		if (it.kind == SC_ITEM_MORE)
			break;
		/* The peer sent more after rawmode: it has read the ok. */
		if (c->holding)
			sc_conn_release(c);
		sc_conn_item(c, &it);
	}
	sc_conn_update_reading(c);
}

static void sc_conn_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct sc_conn *c = arg;
	ssize_t n = 0;

	(void)what;
	if (c->dead) {
		sc_conn_free(c);
		return;
	}
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_len < sizeof(c->in)) {
		n = read(fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			if (n < 0)
				log_info("client %u (%s): %s", c->s->id,
					 c->s->who, strerror(errno));
			sc_conn_free(c);
			return;
		}
	}
	if (n > 0) {
		c->in_len += (size_t)n;
		if (c->holding)
			sc_conn_release(c);
	}
	sc_conn_process(c);
	outq_flush(&c->s->q);
	sc_conn_hold_arm(c);
}

void sc_conn_shutdown_all(struct cand_ctx *ctx)
{
	struct sc_conn *c;

	if (ctx->sc == NULL)
		return;
	TAILQ_FOREACH(c, &ctx->sc->conns, entry) {
		if (c->dead)
			continue;
		c->closing = 1;
		event_del(c->ev_read);
		/* What raw mode held goes, with the goodbye. */
		evtimer_del(c->ev_hold);
		c->holding = SC_HOLD_NONE;
		outq_hold(&c->s->q, 0);
		sc_stats_stop(c);
		sess_shutdown(c->s);
	}
}

void sc_conn_free_all(struct cand_ctx *ctx)
{
	struct sc_conn *c;

	if (ctx->sc == NULL)
		return;
	while ((c = TAILQ_FIRST(&ctx->sc->conns)) != NULL)
		sc_conn_free(c);
}
