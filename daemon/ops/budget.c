/*
 * Send budgets: cand.conf's send_rate and send_burst, a token bucket per
 * client and interface, so that one client cannot saturate a shared bus.
 * A frame goes out only with a token; the bucket holds send_burst of them
 * and refills at send_rate a second, less what the client's running
 * periodic tasks take: a task is counted once, when it starts, at the rate
 * its period gives (the kernel sends it, so cand never sees its frames),
 * and one that would not fit is refused.
 *
 * The send path calls budget_take() before it hands frames to the kernel
 * and budget_done() after; the task path budget_task_reserve() and
 * budget_task_release(). Everything else about sending is send.c's and
 * task.c's. Budgets are read from the policy when a bucket is first used
 * and again after a reload; the tokens and the tasks' share carry over.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/ops.h"

#define BUDGET_RULE_NAME 48

struct budget_bucket {
	char ifname[IFNAMSIZ];
	int known;   /* rate and burst read since the last reload */
	int limited; /* some rule gives a budget here */
	uint32_t rate, burst;
	char rule[BUDGET_RULE_NAME];
	double tokens;
	uint64_t last_us;
	double task_rate; /* frames a second of the running tasks */
};

struct budget {
	struct budget_bucket *v;
	size_t n;
};

static uint64_t budget_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* What the sends may use: the rate less the tasks' share, never below 0. */
static double budget_refill_rate(const struct budget_bucket *b)
{
	double r = (double)b->rate - b->task_rate;

	return r > 0 ? r : 0;
}

static void budget_refill(struct budget_bucket *b, uint64_t now)
{
	if (now > b->last_us)
		b->tokens += (double)(now - b->last_us) *
			     budget_refill_rate(b) / 1e6;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
	b->last_us = now;
}

static void budget_read_policy(struct sess *s, struct budget_bucket *b)
{
	struct policy_budget pb;
	int was = b->limited;

	b->known = 1;
	b->limited = policy_budget(s->ctx->policy, &s->ident, b->ifname, &pb);
	if (!b->limited)
		return;
	b->rate = pb.rate;
	b->burst = pb.burst;
	snprintf(b->rule, sizeof(b->rule), "%s", pb.rule);
	/* A new budget starts full; a changed one keeps what is left. */
	if (!was)
		b->tokens = b->burst;
	else if (b->tokens > b->burst)
		b->tokens = b->burst;
	b->last_us = budget_now_us();
}

/* The bucket of ifname, made on first use; NULL when out of memory. */
static struct budget_bucket *budget_bucket(struct sess *s, const char *ifname)
{
	struct budget *bs = s->budget;
	struct budget_bucket *v;
	size_t i;

	if (bs == NULL) {
		if ((bs = calloc(1, sizeof(*bs))) == NULL)
			return NULL;
		s->budget = bs;
	}
	for (i = 0; i < bs->n; i++)
		if (strcmp(bs->v[i].ifname, ifname) == 0) {
			if (!bs->v[i].known)
				budget_read_policy(s, &bs->v[i]);
			return &bs->v[i];
		}
	if ((v = realloc(bs->v, (bs->n + 1) * sizeof(*v))) == NULL)
		return NULL;
	bs->v = v;
	v = &bs->v[bs->n++];
	memset(v, 0, sizeof(*v));
	snprintf(v->ifname, sizeof(v->ifname), "%s", ifname);
	budget_read_policy(s, v);
	return v;
}

/* The interface a frame goes out on: the channel's, or its own on "". */
static const char *budget_iface(const struct sess *s,
				const struct frame_desc *f)
{
	const char *ch = s->chan != NULL ? chan_name(s->chan) : "";

	return ch[0] != '\0' ? ch : f->ifname;
}

static void budget_say(const struct budget_bucket *b, char *detail,
		       size_t dsize)
{
	detail_set(detail, dsize,
		   "over the send budget of %u frames/s (burst %u, [rule "
		   "%s]) on \"%s\"",
		   b->rate, b->burst, b->rule, b->ifname);
	if (b->task_rate > 0)
		detail_append(detail, dsize,
			      ", of which periodic tasks take %.1f/s",
			      b->task_rate);
}

/*
 * Into *b the bucket of a frame naming name: the one already there when
 * it is the same interface, NULL when the frame names none (chan_send()
 * refuses it in its words). 0, or -ENOMEM.
 */
static int budget_frame_bucket(struct sess *s, const char *name, uint64_t *now,
			       struct budget_bucket **b)
{
	if (name == NULL || name[0] == '\0' || strlen(name) >= IFNAMSIZ) {
		*b = NULL;
		return 0;
	}
	if (*b != NULL && strcmp((*b)->ifname, name) == 0)
		return 0;
	if ((*b = budget_bucket(s, name)) == NULL)
		return -ENOMEM;
	if ((*b)->limited) {
		*now = *now != 0 ? *now : budget_now_us();
		budget_refill(*b, *now);
	}
	return 0;
}

size_t budget_take(struct sess *s, const struct frame_desc *frames,
		   size_t first, size_t n, char *detail, size_t dsize)
{
	struct budget_bucket *b = NULL;
	const char *name, *last = NULL;
	uint64_t now = 0;
	size_t i;

	for (i = first; i < n; i++) {
		name = budget_iface(s, &frames[i]);
		/* A bound channel's frames all name it: looked up once. */
		if ((i == first || name != last) &&
		    budget_frame_bucket(s, name, &now, &b) < 0) {
			detail_set(detail, dsize, "out of memory");
			return i;
		}
		last = name;
		if (b == NULL || !b->limited)
			continue;
		if (b->tokens < 1) {
			budget_say(b, detail, dsize);
			return i;
		}
		b->tokens -= 1;
	}
	return n;
}

void budget_done(struct sess *s, const struct frame_desc *frames, size_t first,
		 size_t sent, size_t taken, int delayed)
{
	struct budget_bucket *b;
	const char *name;
	size_t i;

	s->stats.tx_frames += sent - first;
	if (delayed)
		s->stats.delayed += sent - first;
	/* Taken but not sent (the TX queue was full): the tokens go back. */
	for (i = sent; i < taken; i++) {
		name = budget_iface(s, &frames[i]);
		if (name != NULL && name[0] != '\0' &&
		    strlen(name) < IFNAMSIZ &&
		    (b = budget_bucket(s, name)) != NULL && b->limited &&
		    b->tokens + 1 <= b->burst)
			b->tokens += 1;
	}
}

uint64_t budget_wait_us(struct sess *s, const struct frame_desc *f)
{
	const char *name = budget_iface(s, f);
	struct budget_bucket *b;
	double rate;

	if (name == NULL || name[0] == '\0' || strlen(name) >= IFNAMSIZ ||
	    (b = budget_bucket(s, name)) == NULL || !b->limited)
		return 0;
	budget_refill(b, budget_now_us());
	if (b->tokens >= 1)
		return 0;
	rate = budget_refill_rate(b);
	if (rate <= 0)
		return UINT64_MAX;
	return (uint64_t)((1 - b->tokens) * 1e6 / rate) + 1;
}

int budget_task_reserve(struct sess *s, const char *ifname, uint64_t period_us,
			char *detail, size_t dsize)
{
	struct budget_bucket *b = budget_bucket(s, ifname);
	double rate = 1e6 / (double)period_us;

	if (b == NULL)
		return -ENOMEM;
	if (b->limited) {
		budget_refill(b, budget_now_us());
		if (b->task_rate + rate > (double)b->rate + 1e-9) {
			detail_set(detail, dsize,
				   "a task every %llu us sends %.1f frames/s: "
				   "over the send budget of %u frames/s "
				   "([rule %s]) on \"%s\"",
				   (unsigned long long)period_us, rate, b->rate,
				   b->rule, b->ifname);
			if (b->task_rate > 0)
				detail_append(detail, dsize,
					      ", of which running tasks take "
					      "%.1f/s",
					      b->task_rate);
			s->stats.tasks_refused++;
			return -EDQUOT;
		}
	}
	/* Counted with or without a budget: a reload may bring one. */
	b->task_rate += rate;
	return 0;
}

void budget_task_release(struct sess *s, const char *ifname, uint64_t period_us)
{
	struct budget_bucket *b = budget_bucket(s, ifname);

	if (b == NULL)
		return;
	if (b->limited)
		budget_refill(b, budget_now_us());
	b->task_rate -= 1e6 / (double)period_us;
	if (b->task_rate < 1e-9)
		b->task_rate = 0;
}

void budget_reload(struct sess *s)
{
	size_t i;

	if (s->budget == NULL)
		return;
	for (i = 0; i < s->budget->n; i++) {
		if (s->budget->v[i].limited)
			budget_refill(&s->budget->v[i], budget_now_us());
		s->budget->v[i].known = 0;
	}
}

size_t budget_describe(struct sess *s, char *buf, size_t size)
{
	const struct budget_bucket *b;
	size_t i, n = 0;

	buf[0] = '\0';
	if (s->budget == NULL)
		return 0;
	for (i = 0; i < s->budget->n; i++) {
		b = &s->budget->v[i];
		if (!b->limited)
			continue;
		detail_append(buf, size, "%s%s %u/s burst %u", n ? ", " : "",
			      b->ifname, b->rate, b->burst);
		n++;
	}
	return n;
}

void budget_free(struct sess *s)
{
	if (s->budget == NULL)
		return;
	free(s->budget->v);
	free(s->budget);
	s->budget = NULL;
}
