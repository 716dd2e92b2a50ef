/*
 * Reconnecting after the daemon went away (cand.h, "Reconnection").
 *
 * The calls that set something up on the daemon keep their request here
 * (open, filters, subscription, each task and monitor), packed and
 * without an id. When the connection is lost (libcand_err_lost()), the
 * next call that needs the daemon tries to reach it again, backing off,
 * until reconnect_ms after the loss; a new connection gets every kept
 * request at once, in one write, and the reader takes their replies in
 * order (libcand_read.c): the daemon's new ids for the tasks and
 * monitors, the reconnected event at the first, a refusal killing the
 * handle. Nothing else is sent until the last reply is in, so the replay
 * needs no waiting of its own: a receive call with timeout 0 starts it
 * and later ones read its replies like any other input.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "libcand_int.h"
#include "wire.h"

/* Packs req, without its id, into k; without memory the handle cannot come
 * back, and will say so when the daemon goes. */
void libcand_resume_keep(struct cand *h, struct cand_kept *k,
			 const Cand__Request *req)
{
	Cand__Request copy = *req;
	unsigned char *buf;
	size_t len;

	copy.id = 0;
	len = cand__request__get_packed_size(&copy);
	if ((buf = realloc(k->buf, len ? len : 1)) == NULL) {
		h->unkept = 1;
		libcand_resume_drop(k);
		return;
	}
	k->buf = buf;
	k->len = cand__request__pack(&copy, buf);
}

void libcand_resume_drop(struct cand_kept *k)
{
	free(k->buf);
	k->buf = NULL;
	k->len = 0;
}

/* Every call fails from now on, as it would have without reconnection. */
static int libcand_resume_give_up(struct cand *h)
{
	int err = h->lost_shutdown ? CAND_ESHUTDOWN : CAND_EDISCONNECTED;
	int rc;

	h->lost = 0;
	h->n_replay = h->replay_next = 0;
	rc = libcand_err_kill(h, err,
			      "%s; gave up reconnecting after %lld ms%s%s",
			      h->lost_detail, (long long)h->reconnect_ms,
			      h->retry_errno ? ": " : "",
			      h->retry_errno ? strerror(h->retry_errno) : "");
	/* A poller must wake up to hear it. */
	libcand_conn_detach(h, 0);
	return rc;
}

static int64_t libcand_resume_giveup_ms(const struct cand *h)
{
	return h->lost_ms + h->reconnect_ms;
}

/*
 * The next try: twice the last wait, from CAND_RETRY_FIRST_MS up to
 * CAND_RETRY_MAX_MS, less up to a half of it at random, so that clients
 * that lost the daemon together do not all come back at one instant.
 */
static void libcand_resume_backoff(struct cand *h, int64_t now)
{
	unsigned r;
	int wait;

	h->backoff_ms =
		h->backoff_ms == 0 ? CAND_RETRY_FIRST_MS : h->backoff_ms * 2;
	if (h->backoff_ms > CAND_RETRY_MAX_MS)
		h->backoff_ms = CAND_RETRY_MAX_MS;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned)(libcand_clock_ns(CLOCK_MONOTONIC) >> 10);
	wait = h->backoff_ms - (int)(r % (unsigned)(h->backoff_ms / 2 + 1));
	h->retry_ms = now + wait;
}

/* A task as the application left it, for the new connection. */
static int libcand_resume_task(struct cand *h, struct cand_ref *r,
			       Cand__TaskStartRequest *ts, int64_t now)
{
	uint64_t ran;

	ts->paused = r->state != CAND_TASK_RUNNING;
	if (r->state != CAND_TASK_RUNNING || ts->duration_us == 0)
		return 0;
	/* Counted from its start, over every reconnection since. */
	ran = (uint64_t)(now - r->started_ms) * 1000u;
	if (ran < ts->duration_us) {
		ts->duration_us -= ran;
		return 0;
	}
	ts->paused = 1;
	r->state = CAND_TASK_EXPIRED;
	return libcand_event_expired(h, r);
}

/* Appends k, unpacked and given the next id, to the replay in *buf. */
static int libcand_resume_add(struct cand *h, const struct cand_kept *k,
			      struct cand_ref *r, unsigned char **buf,
			      size_t *len, int64_t now)
{
	struct cand_replay_step *st = &h->replay[h->n_replay];
	Cand__Request *req;
	unsigned char *p;
	size_t n;
	int rc = 0;

	req = cand__request__unpack(NULL, k->len, k->buf);
	if (req == NULL)
		return libcand_err_kill(h, CAND_ENOMEM,
					"no memory to reconnect");
	if (++h->last_id == 0)
		h->last_id = 1;
	req->id = h->last_id;
	if (r != NULL && r->kind == CAND_REF_TASK &&
	    req->op_case == CAND__REQUEST__OP_TASK_START)
		rc = libcand_resume_task(h, r, req->task_start, now);
	n = cand__request__get_packed_size(req);
	if (rc == 0 && (p = realloc(*buf, *len + CAND_WIRE_HDR + n)) != NULL) {
		wire_put_len(p + *len, (uint32_t)n);
		cand__request__pack(req, p + *len + CAND_WIRE_HDR);
		*buf = p;
		*len += CAND_WIRE_HDR + n;
		st->id = req->id;
		st->op = req->op_case;
		st->ref = r;
		h->n_replay++;
	} else if (rc == 0) {
		rc = libcand_err_kill(h, CAND_ENOMEM, "no memory to reconnect");
	}
	cand__request__free_unpacked(req, NULL);
	return rc;
}

/* Everything kept, in one write to the new connection. */
static int libcand_resume_replay(struct cand *h, int64_t now)
{
	const struct cand_kept *top[] = {&h->kept_open, &h->kept_filters,
					 &h->kept_sub};
	struct cand_replay_step *steps;
	struct cand_ref *r;
	unsigned char *buf = NULL;
	size_t i, n = 3, len = 0;
	int rc = 0;

	for (r = h->refs; r != NULL; r = r->next)
		n++;
	if ((steps = realloc(h->replay, n * sizeof(*steps))) == NULL)
		return libcand_err_kill(h, CAND_ENOMEM,
					"no memory to reconnect");
	h->replay = steps;
	h->n_replay = h->replay_next = 0;
	for (i = 0; i < 3 && rc == 0; i++)
		if (top[i]->len > 0)
			rc = libcand_resume_add(h, top[i], NULL, &buf, &len,
						now);
	for (r = h->refs; r != NULL && rc == 0; r = r->next)
		if (r->kept.len > 0)
			rc = libcand_resume_add(h, &r->kept, r, &buf, &len,
						now);
	if (rc == 0 && h->n_replay == 0) {
		/* Only connected: back as soon as the socket is. */
		h->lost_mono_ns = 0;
		rc = libcand_event_reconnected(h);
	} else if (rc == 0) {
		rc = libcand_conn_write(h, buf, len, NULL,
					libcand_resume_giveup_ms(h));
	}
	free(buf);
	return rc;
}

/*
 * One step towards the daemon, without waiting: the lost socket let go,
 * a try when one is due, the replay written when it works. 0 (still away
 * or on the way back), or a negative code when the handle is dead.
 */
int libcand_resume_poll(struct cand *h)
{
	int64_t now = libcand_conn_now_ms();
	int fd, rc;

	if (h->dead)
		return h->dead;
	if (!h->lost)
		return 0;
	/* What the old connection said before it went is still news. */
	if (h->fd >= 0 && (rc = libcand_read_all(h, NULL)) < 0)
		return rc;
	/* Read to its end: its sends ahead will get no reply now. */
	libcand_ahead_lost(h);
	if (now >= libcand_resume_giveup_ms(h))
		return libcand_resume_give_up(h);
	if (now < h->retry_ms)
		return h->fd >= 0 ? libcand_conn_detach(h, h->retry_ms) : 0;
	if ((rc = libcand_conn_dial(h->path, 1, &fd)) < 0) {
		/* Not there yet (ENOENT, ECONNREFUSED, a full backlog). */
		h->retry_errno = -rc;
		libcand_resume_backoff(h, now);
		return libcand_conn_detach(h, h->retry_ms);
	}
	h->retry_errno = 0;
	if ((rc = libcand_conn_attach(h, fd)) < 0)
		return rc;
	h->lost = 0;
	/* Should this one drop too, the next try waits its turn. */
	libcand_resume_backoff(h, now);
	return libcand_resume_replay(h, now);
}

/*
 * Waits, while the daemon is away, for the next try, the caller's
 * deadline (CLOCK_MONOTONIC ms, < 0: none) or the end of reconnect_ms,
 * whichever comes first. 0 once the deadline has passed, else 1.
 */
int libcand_resume_sleep(struct cand *h, int64_t deadline)
{
	int64_t now = libcand_conn_now_ms(), until = h->retry_ms;

	if (libcand_resume_giveup_ms(h) < until)
		until = libcand_resume_giveup_ms(h);
	if (deadline >= 0 && deadline < until)
		until = deadline;
	/* A signal ends it early: the caller looks at the clock. */
	if (until > now)
		poll(NULL, 0, (int)(until - now));
	return deadline < 0 || libcand_conn_now_ms() < deadline;
}

/*
 * Until the handle is connected and everything it had is set up again:
 * 0, CAND_ETIMEOUT at deadline (< 0: none), or a negative code when it
 * died (gave up, was refused).
 */
int libcand_resume_wait(struct cand *h, int64_t deadline)
{
	int64_t until;
	int rc;

	for (;;) {
		if (h->dead)
			return libcand_err_dead(h);
		if (!h->lost && h->replay_next == h->n_replay)
			return 0;
		until = libcand_resume_giveup_ms(h);
		if (libcand_conn_now_ms() >= until)
			return libcand_resume_give_up(h);
		if (deadline >= 0 && deadline < until)
			until = deadline;
		if (h->lost) {
			if ((rc = libcand_resume_poll(h)) < 0)
				return rc;
			if (h->lost && !libcand_resume_sleep(h, deadline))
				break;
			continue;
		}
		/* The replay's replies, and whatever comes with them. */
		if (libcand_read_msg(h, NULL) > 0 || libcand_conn_fill(h) != 0)
			continue;
		if (libcand_conn_wait(h, POLLIN, until) == 0 &&
		    (deadline >= 0 && libcand_conn_now_ms() >= deadline))
			break;
	}
	return libcand_err_set(h, CAND_ETIMEOUT, "the daemon is not back yet");
}
