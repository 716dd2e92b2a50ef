/*
 * A session: one client of whatever front-end, with its identity, its
 * rights on its channel, its output queue, its channel, tasks and
 * monitors, and its event subscription. The front-end makes it when a
 * client connects and frees it when the client goes; everything between
 * is here or in the operations it owns.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/ops.h"

/*
 * The command the client ran as it connected, for `canctl clients`. Read
 * once: the pid may be reused later, and then the name would lie.
 */
static void sess_read_comm(struct sess *s)
{
	char path[64];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)s->ident.pid);
	if (s->ident.pid > 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, s->comm, sizeof(s->comm) - 1);
		close(fd);
	}
	if (n <= 0) {
		snprintf(s->comm, sizeof(s->comm), "?");
		return;
	}
	s->comm[n] = '\0';
	s->comm[strcspn(s->comm, "\n")] = '\0';
}

struct sess *sess_new(struct cand_ctx *ctx, const struct ident *id, int fd,
		      const struct outq_codec *codec, void *owner)
{
	struct sess *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if (outq_init(&s->q, ctx, fd, codec, owner) < 0) {
		free(s);
		return NULL;
	}
	s->ctx = ctx;
	s->id = ++ctx->next_sess_id;
	s->ident = *id;
	policy_who(id, s->who, sizeof(s->who));
	sess_read_comm(s);
	TAILQ_INSERT_TAIL(&ctx->sessions, s, entry);
	ctx->n_sessions++;
	if (id->kind == IDENT_PEER)
		log_info("client %u connected: %s port %u", s->id, s->who,
			 id->peer.port);
	else
		log_info("client %u connected: pid %ld (%s) uid %lu gid %lu "
			 "(%zu groups)",
			 s->id, (long)id->pid, s->comm, (unsigned long)id->uid,
			 (unsigned long)id->gid, id->n_groups);
	notify_status(ctx);
	return s;
}

void sess_free(struct sess *s)
{
	TAILQ_REMOVE(&s->ctx->sessions, s, entry);
	s->ctx->n_sessions--;
	log_info("client %u disconnected", s->id);
	notify_status(s->ctx);
	send_cancel(s);
	bcmop_free_all(s);
	budget_free(s);
	chan_close(s);
	outq_free(&s->q);
	free(s->ident.groups);
	free(s);
}

void sess_pause(struct sess *s)
{
	if (s->chan != NULL)
		chan_pause(s->chan);
}

void sess_resume(struct sess *s)
{
	if (s->chan != NULL)
		chan_resume(s->chan);
	bcmop_resume(s);
}

/* One rights event naming what a reload took away. */
static void sess_rights_event(struct sess *s, unsigned revoked,
			      const char *channel)
{
	struct evt e = {.kind = EVT_RIGHTS};
	char detail[256];
	int r;

	snprintf(detail, sizeof(detail), "configuration reloaded: %s lost",
		 s->who);
	for (r = RIGHT_READ; r <= RIGHT_ADMIN; r++)
		if (revoked & POLICY_RIGHT_BIT(r))
			detail_append(detail, sizeof(detail), " '%s'",
				      policy_right_name(r));
	detail_append(detail, sizeof(detail), " on \"%s\"", channel);
	log_info("client %u: %s", s->id, detail);
	e.detail = detail;
	e.u.rights.revoked = revoked;
	outq_event(&s->q, &e);
}

void sess_reload(struct sess *s)
{
	const char *channel;
	unsigned now, revoked;

	if (policy_load_groups(&s->ident) < 0)
		log_warn("client %u: groups not refreshed: out of memory",
			 s->id);
	budget_reload(s);
	if (s->q.dead || s->closing || s->chan == NULL)
		return;
	channel = chan_name(s->chan);
	now = policy_rights(s->ctx->policy, &s->ident, channel);
	revoked = s->rights & ~now;
	s->rights = now;
	/* Sends are checked per request; receiving must be stopped here. */
	if (chan_set_rx(s->chan, (now & POLICY_RIGHT_BIT(RIGHT_READ)) != 0) < 0)
		outq_fail(&s->q,
			  "cannot change its CAN filters after a reload");
	/* What a lost right covered stops now, not at the next request. */
	if (revoked & POLICY_RIGHT_BIT(RIGHT_PERIODIC))
		task_stop_all(s, NULL, 0);
	if (revoked & POLICY_RIGHT_BIT(RIGHT_MONITOR))
		bcmop_free_kind(s, BCM_MONITOR);
	if (revoked != 0)
		sess_rights_event(s, revoked, channel);
	outq_flush(&s->q);
}

void sess_shutdown(struct sess *s)
{
	struct evt e = {.kind = EVT_SHUTDOWN,
			.detail = "cand is shutting down"};

	if (s->q.dead)
		return;
	s->closing = 1;
	send_abort(s, -ESHUTDOWN, "cand is shutting down");
	/* Frames stop here; tasks and monitors when the client goes. */
	chan_close(s);
	outq_event(&s->q, &e);
	outq_flush(&s->q);
}

int sess_subscribe(struct sess *s, const char *ifname, int off, char *detail,
		   size_t dsize)
{
	if (off) {
		s->subscribed = 0;
		log_info("client %u: unsubscribed from events", s->id);
		return 0;
	}
	if (strlen(ifname) >= IFNAMSIZ) {
		detail_set(detail, dsize, "interface name \"%s\" is too long",
			   ifname);
		return -EINVAL;
	}
	/* Changes made before the subscription are not news to it. */
	linkmon_drain(s->ctx);
	/* An interface that is not there (yet) is fine: it may appear. */
	snprintf(s->sub_ifname, sizeof(s->sub_ifname), "%s", ifname);
	s->subscribed = 1;
	log_info("client %u: subscribed to events of %s", s->id,
		 ifname[0] ? ifname : "every interface");
	return 0;
}
