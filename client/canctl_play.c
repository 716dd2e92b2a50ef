/*
 * canctl play: canplayer through cand. Replays a candump -L log on the
 * interfaces it names, or as canplayer's write-if=log-if assignments
 * say, at the log's own pace: each frame has an absolute deadline from
 * the first one (a timerfd, so Ctrl-C is never lost while waiting), and
 * the frames due together go to each interface in one request, sent
 * ahead of its reply.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "canctl.h"
#include "canctl_play.h"
#include "frametext.h"
#include "timetext.h"

#define CANCTL_PLAY_TIMEOUT_MS 1000	     /* for room in a full TX queue */
#define CANCTL_PLAY_MAX_GAP_US 3600000000ull /* -g: an hour */

/*
 * What the daemon said of o's frames sent ahead: when one failed, the
 * line it came from. wait: all replies, else only those already in.
 */
static int canctl_play_settle(struct canctl_play *p, struct canctl_play_out *o,
			      int rc)
{
	char what[PATH_MAX + 64];
	size_t sent = 0;
	int err;

	err = cand_send_wait(o->h, &sent);
	o->confirmed += sent;
	if (rc == 0)
		rc = err;
	if (rc == 0)
		return 0;
	snprintf(what, sizeof(what), "%s:%lu: send on %s", p->in_name,
		 o->ring[o->confirmed % CANCTL_PLAY_RING], o->name);
	return canctl_util_fail(o->h, rc, what);
}

/*
 * The frames due for o go out in one request, ahead of its reply, so the
 * next frame is not held up by this one's round trip.
 */
static int canctl_play_flush(struct canctl_play *p, struct canctl_play_out *o)
{
	char text[FRAMETEXT_MAX];
	size_t i;
	int rc;

	if (o->n == 0)
		return 0;
	for (i = 0; i < o->n; i++)
		o->ring[(o->submitted + i) % CANCTL_PLAY_RING] = o->lines[i];
	o->submitted += o->n;
	if ((rc = cand_send_async(o->h, o->batch, o->n,
				  CANCTL_PLAY_TIMEOUT_MS)) < 0)
		return canctl_play_settle(p, o, rc);
	for (i = 0; i < o->n && p->verbose; i++) {
		frametext_format_long(text, sizeof(text), &o->batch[i],
				      FRAMETEXT_INDENT);
		printf("%s (%s) %s\n", o->name, o->logged[i], text);
	}
	o->n = 0;
	return 0;
}

static int canctl_play_flush_all(struct canctl_play *p)
{
	int i, rc;

	for (i = 0; i < p->n_outs; i++)
		if ((rc = canctl_play_flush(p, &p->outs[i])) != 0)
			return rc;
	p->pending = NULL;
	if (p->verbose && fflush(stdout) == EOF)
		return 1;
	return 0;
}

/* A frame due now: queued for its interface, or printed (stdout=). */
static int canctl_play_take(struct canctl_play *p, struct canctl_play_out *o,
			    const struct canctl_play_frame *pf)
{
	int rc;

	if (o == NULL) {
		/* In order with what went to the bus before it. */
		if ((rc = canctl_play_flush_all(p)) != 0)
			return rc;
		if (fputs(pf->text, stdout) == EOF || fflush(stdout) == EOF)
			return errno == EPIPE ? 0 : 1;
		return 0;
	}
	/* Frames for another interface go first: the log's order holds. */
	if (p->pending != NULL && p->pending != o &&
	    (rc = canctl_play_flush(p, p->pending)) != 0)
		return rc;
	p->pending = o;
	o->batch[o->n] = pf->f;
	memcpy(o->logged[o->n], pf->f.ifname, CAND_IFNAMSIZ);
	/* The channel names the interface; a name would cost every frame. */
	o->batch[o->n].ifname[0] = '\0';
	o->lines[o->n] = pf->line;
	if (++o->n == CANCTL_PLAY_BATCH)
		return canctl_play_flush(p, o);
	return 0;
}

/* Sleeps until deadline (CLOCK_MONOTONIC ns) or a stop signal. */
static int canctl_play_wait(struct canctl_play *p, uint64_t deadline)
{
	struct itimerspec its = {{0, 0}, {0, 0}};
	struct pollfd pfd = {.fd = p->timer, .events = POLLIN};
	uint64_t expirations;

	its.it_value.tv_sec = (time_t)(deadline / 1000000000u);
	its.it_value.tv_nsec = (long)(deadline % 1000000000u);
	if (timerfd_settime(p->timer, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
		perror("canctl: timerfd");
		return 1;
	}
	while (!canctl_util_stopped()) {
		if (ppoll(&pfd, 1, NULL, p->waitmask) > 0) {
			if (read(p->timer, &expirations, sizeof(expirations)) <
				    0 &&
			    errno != EAGAIN)
				return 1;
			return 0;
		}
		if (errno != EINTR) {
			perror("canctl: poll");
			return 1;
		}
	}
	return 0;
}

uint64_t canctl_play_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* When a frame logged at ts (ns) is due. */
static uint64_t canctl_play_deadline(struct canctl_play *p, uint64_t ts)
{
	uint64_t now;

	if (!p->use_ts)
		return 0;
	if (p->gap_ns > 0) {
		now = canctl_play_now();
		p->next = p->started ? p->next + p->gap_ns : now;
		p->started = 1;
		return p->next;
	}
	/*
	 * The first frame, a log going back in time, or a gap longer than
	 * -s: from now on, as canplayer does.
	 */
	if (!p->started || ts < p->last_ts ||
	    (p->skip_ns > 0 && ts - p->last_ts > p->skip_ns)) {
		p->base_mono = canctl_play_now();
		p->base_ts = ts;
		p->started = 1;
	}
	p->last_ts = ts;
	return p->base_mono + (ts - p->base_ts);
}

/* One pass over the log; 0 at its end, else the exit status. */
static int canctl_play_pass(struct canctl_play *p)
{
	struct canctl_play_frame pf;
	struct canctl_play_out *o;
	uint64_t deadline;
	int rc;

	p->started = 0;
	while ((rc = canctl_playlog_next(p, &pf, &o)) == 1) {
		deadline = canctl_play_deadline(p, pf.f.timestamp_ns);
		if (deadline > canctl_play_now()) {
			/* What is due goes out before the wait, not after. */
			if ((rc = canctl_play_flush_all(p)) != 0)
				return rc;
			if (deadline > canctl_play_now() &&
			    (rc = canctl_play_wait(p, deadline)) != 0)
				return rc;
		}
		if (canctl_util_stopped())
			return 0;
		pf.f.timestamp_ns = 0;
		if ((rc = canctl_play_take(p, o, &pf)) != 0)
			return rc;
		if (p->count > 0 && --p->count == 0) {
			p->done = 1;
			break;
		}
	}
	if (rc < 0) {
		/* What came before the bad line is due; it still goes. */
		canctl_play_flush_all(p);
		return -rc;
	}
	return canctl_play_flush_all(p);
}

static int canctl_play_run(struct canctl_play *p)
{
	int i, rc = 0, end;

	while (p->loops != 0 && !p->done && !canctl_util_stopped()) {
		if (p->loops > 0)
			p->loops--;
		if ((rc = canctl_playlog_rewind(p)) != 0)
			break;
		if ((rc = canctl_play_pass(p)) != 0)
			break;
	}
	/* The last replies: a failure there is the play's too. */
	for (i = 0; i < p->n_outs; i++)
		if (p->outs[i].h != NULL &&
		    (end = canctl_play_settle(p, &p->outs[i], 0)) != 0 &&
		    rc == 0)
			rc = end;
	return rc;
}

static int canctl_play_gap(const char *s, uint64_t *ns)
{
	uint64_t us;
	const char *why;

	if (timetext_parse_us(s, &us, &why) < 0)
		return canctl_usage_error("bad gap '%s': %s", s, why);
	if (us > CANCTL_PLAY_MAX_GAP_US)
		return canctl_usage_error("gap '%s' out of range (at most an "
					  "hour)",
					  s);
	*ns = us * 1000u;
	return 0;
}

static int canctl_play_options(struct canctl_play *p, int argc, char **argv)
{
	const char *in = NULL;
	char *end;
	long v;
	int ch;

	optind = 0;
	while ((ch = getopt(argc, argv, ":I:l:tg:s:n:xkv")) != -1) {
		switch (ch) {
		case 'I':
			in = optarg;
			break;
		case 'l':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (strcmp(optarg, "i") == 0)
				p->loops = -1;
			else if (errno != 0 || end == optarg || *end != '\0' ||
				 v < 1 || v > INT_MAX)
				return canctl_usage_error(
					"bad loop count '%s' (1 or more, or "
					"i for ever)",
					optarg);
			else
				p->loops = v;
			break;
		case 't':
			p->use_ts = 0;
			break;
		case 'g':
			if (canctl_play_gap(optarg, &p->gap_ns) != 0)
				return 2;
			break;
		case 's':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    v < 1 || v > INT_MAX)
				return canctl_usage_error(
					"bad skip '%s' (whole seconds, 1 or "
					"more)",
					optarg);
			p->skip_ns = (uint64_t)v * 1000000000u;
			break;
		case 'n':
			if (canctl_util_count(optarg, &p->count) != 0)
				return 2;
			break;
		case 'x':
			p->loopback = 0;
			break;
		case 'k':
			p->keep_going = 1;
			break;
		case 'v':
			p->verbose++;
			break;
		default:
			return canctl_bad_option(ch, argv);
		}
	}
	/* A fixed gap replaces the log's timing, with -t or without. */
	if (p->gap_ns > 0)
		p->use_ts = 1;
	return canctl_playlog_open(p, in);
}

static int canctl_play(const char *sock, int argc, char **argv)
{
	struct canctl_play p;
	sigset_t waitmask;
	int i, rc;

	memset(&p, 0, sizeof(p));
	p.use_ts = 1;
	p.loops = 1;
	p.count = -1;
	p.loopback = 1;
	p.timer = -1;
	p.sock = sock;
	if ((rc = canctl_play_options(&p, argc, argv)) == 0 &&
	    (rc = canctl_playlog_maps(&p, argc - optind, argv + optind)) == 0) {
		canctl_util_signals(&waitmask);
		p.waitmask = &waitmask;
		p.timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		if (p.timer < 0) {
			perror("canctl: timerfd");
			rc = 1;
		} else if ((rc = canctl_playlog_open_maps(&p)) == 0)
			rc = canctl_play_run(&p);
	}
	for (i = 0; i < p.n_outs; i++)
		if (p.outs[i].h != NULL)
			cand_close(p.outs[i].h);
	if (p.timer >= 0)
		close(p.timer);
	canctl_playlog_close(&p);
	return rc;
}

const struct canctl_cmd canctl_play_cmd = {
	"play",
	"[-txkv] [-I file] [-l n|i] [-g gap] [-s secs] [-n count]\n"
	"      [write-if=log-if ...]",
	"replay a candump -L log like canplayer, at the log's pace; each\n"
	"write-if=log-if sends the frames logged on log-if to write-if\n"
	"(stdout=log-if prints their lines), and with none each frame\n"
	"goes to the interface it names\n"
	"  -I file   the log (default stdin)\n"
	"  -l n      play it n times, i for ever (not stdin)\n"
	"  -t        ignore the timestamps: send at once\n"
	"  -g gap    a frame every gap (10ms, 1s; a bare number is ms)\n"
	"            instead of the log's timing\n"
	"  -s secs   skip gaps in the log longer than secs\n"
	"  -n count  stop after count frames\n"
	"  -x        no local loopback of the frames sent\n"
	"  -k        skip malformed lines (else the first one stops it)\n"
	"  -v        print each frame sent\n",
	canctl_play,
};
