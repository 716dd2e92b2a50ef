/*
 * A client's output queue: the one way anything goes out to a client, and
 * the one way the layers below a codec tell it something. The operations
 * append frames and events (outq_frames, outq_event); the codec that owns
 * the client sets the encoder that writes them in its wire format and the
 * callbacks that hear when the queue drained (on_low) or when the client
 * must go (fail). Watermarks and writing are here, once, for every codec.
 */
#ifndef CAND_DAEMON_BASE_OUTQ_H
#define CAND_DAEMON_BASE_OUTQ_H

#include <stddef.h>

#include "base/evt.h"
#include "daemon.h"

struct evbuffer;
struct outq;

struct outq_codec {
	/* Append to q->buf in the codec's format; 0 or -errno. */
	int (*frames)(struct outq *q, const struct rx_batch *b);
	int (*event)(struct outq *q, const struct evt *e);
	/* Drained below the low watermark: read again what was paused. */
	void (*on_low)(void *owner);
	/* The client must go (logged by the codec with why). */
	void (*fail)(void *owner, const char *why);
};

struct outq {
	struct evbuffer *buf;
	int fd;
	struct event *ev_write;
	const struct cand_limits *limits; /* the watermarks, as reloaded */
	const struct outq_codec *codec;
	void *owner;
	struct cand_ctx *ctx;
	int dead;  /* stopped: nothing is queued or written any more */
	int armed; /* ev_write is added: what is left goes out from the loop */
	int held;  /* outq_hold(): what is queued after the mark waits */
	size_t head; /* while held: bytes before the mark not yet written */
};

int outq_init(struct outq *q, struct cand_ctx *ctx, int fd,
	      const struct outq_codec *codec, void *owner);
void outq_free(struct outq *q);
/* At or above the high watermark: stop reading what feeds it. */
int outq_full(const struct outq *q);
size_t outq_backlog(const struct outq *q);
int outq_frames(struct outq *q, const struct rx_batch *b);
int outq_event(struct outq *q, const struct evt *e);
/* Writes what can be written now, arms the write event for the rest. */
void outq_flush(struct outq *q);
/* The same from the event loop's next round; safe inside a handler. */
void outq_flush_later(struct outq *q);
/*
 * Marks the end of what is queued (on = 1): that still goes out, what is
 * queued after it waits until outq_hold(q, 0), after which the next flush
 * (or the loop's next round) writes it all. For a codec whose reply must
 * reach its client alone (socketcand's raw-mode ok) while what follows is
 * already being queued. The watermarks still count what waits.
 */
void outq_hold(struct outq *q, int on);
/* Bytes before the hold's mark not yet written (0 when not held). */
size_t outq_unheld(const struct outq *q);
/* The client must go: the codec's fail, which ends in outq_stop. */
void outq_fail(struct outq *q, const char *why);
/* Drops what is queued and writes nothing more. */
void outq_stop(struct outq *q);

#endif
