/*
 * canctl play's log and interfaces: candump -L lines read one at a time
 * (those not starting with '(' are comments, as for canplayer), each
 * frame's logged interface mapped to the handle it goes out on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canctl.h"
#include "canctl_play.h"
#include "frametext.h"

/* Far beyond the longest candump -L line; a longer one is not a log. */
#define CANCTL_PLAYLOG_MAX_LINE 4096

int canctl_playlog_open(struct canctl_play *p, const char *path)
{
	if (path == NULL || strcmp(path, "-") == 0) {
		p->in = stdin;
		p->in_name = "stdin";
		/* canplayer's rule: stdin cannot be read twice. */
		p->loops = 1;
		return 0;
	}
	if ((p->in = fopen(path, "r")) == NULL) {
		fprintf(stderr, "canctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	p->in_name = path;
	return 0;
}

void canctl_playlog_close(struct canctl_play *p)
{
	int i;

	if (p->in != NULL && p->in != stdin)
		fclose(p->in);
	p->in = NULL;
	free(p->buf);
	p->buf = NULL;
	for (i = 0; i < p->n_outs; i++) {
		free(p->outs[i].batch);
		free(p->outs[i].lines);
		free(p->outs[i].logged);
		free(p->outs[i].ring);
	}
}

int canctl_playlog_rewind(struct canctl_play *p)
{
	if (p->in == stdin) {
		p->line = 0;
		return 0;
	}
	if (fseek(p->in, 0, SEEK_SET) < 0) {
		fprintf(stderr, "canctl: %s: %s\n", p->in_name,
			strerror(errno));
		return 1;
	}
	p->line = 0;
	return 0;
}

/* The output named name, made (not opened) when it is new; NULL: full. */
static struct canctl_play_out *canctl_playlog_out(struct canctl_play *p,
						  const char *name)
{
	struct canctl_play_out *o;
	int i;

	for (i = 0; i < p->n_outs; i++)
		if (strcmp(p->outs[i].name, name) == 0)
			return &p->outs[i];
	if (p->n_outs == CANCTL_PLAY_MAX_OUTS)
		return NULL;
	o = &p->outs[p->n_outs];
	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->batch = calloc(CANCTL_PLAY_BATCH, sizeof(*o->batch));
	o->lines = calloc(CANCTL_PLAY_BATCH, sizeof(*o->lines));
	o->logged = calloc(CANCTL_PLAY_BATCH, sizeof(*o->logged));
	o->ring = calloc(CANCTL_PLAY_RING, sizeof(*o->ring));
	p->n_outs++;
	if (o->batch == NULL || o->lines == NULL || o->logged == NULL ||
	    o->ring == NULL) {
		fprintf(stderr, "canctl: out of memory\n");
		return NULL;
	}
	return o;
}

int canctl_playlog_maps(struct canctl_play *p, int argc, char **argv)
{
	struct canctl_play_out *o;
	char write_if[CAND_IFNAMSIZ];
	const char *eq;
	size_t wlen, llen;
	int i, j;

	for (i = 0; i < argc; i++) {
		if ((eq = strchr(argv[i], '=')) == NULL)
			return canctl_usage_error("'%s' is no write-if=log-if "
						  "assignment",
						  argv[i]);
		wlen = (size_t)(eq - argv[i]);
		llen = strlen(eq + 1);
		if (wlen == 0 || llen == 0 || wlen >= CAND_IFNAMSIZ ||
		    llen >= CAND_IFNAMSIZ || strchr(eq + 1, '=') != NULL)
			return canctl_usage_error("bad assignment '%s'",
						  argv[i]);
		for (j = 0; j < p->n_maps; j++)
			if (strcmp(p->maps[j].log_if, eq + 1) == 0)
				return canctl_usage_error(
					"log interface '%s' assigned twice",
					eq + 1);
		if (p->n_maps == CANCTL_PLAY_MAX_OUTS)
			return canctl_usage_error("more than %d assignments",
						  CANCTL_PLAY_MAX_OUTS);
		memcpy(p->maps[p->n_maps].log_if, eq + 1, llen + 1);
		memcpy(write_if, argv[i], wlen);
		write_if[wlen] = '\0';
		if ((o = canctl_playlog_out(p, write_if)) == NULL)
			return 1;
		p->maps[p->n_maps++].out = (int)(o - p->outs);
	}
	return 0;
}

/* A handle that sends on o->name and receives nothing. */
static int canctl_playlog_connect(struct canctl_play *p,
				  struct canctl_play_out *o)
{
	struct cand_filter none = {.id = 0, .mask = 0, .invert = 1};
	struct cand_options opts;
	int rc;

	if (strcmp(o->name, "stdout") == 0 || o->h != NULL)
		return 0;
	if (canctl_util_connect(p->sock, &o->h) != 0)
		return 1;
	cand_options_init(&opts);
	opts.channel = o->name;
	opts.fd = 1;
	opts.local_loopback = p->loopback;
	opts.ignore_rx_error_frames = 1;
	opts.filters = &none;
	opts.n_filters = 1;
	if ((rc = cand_open(o->h, &opts)) < 0)
		return canctl_util_fail(o->h, rc, o->name);
	return 0;
}

int canctl_playlog_open_maps(struct canctl_play *p)
{
	int i, rc;

	for (i = 0; i < p->n_outs; i++)
		if ((rc = canctl_playlog_connect(p, &p->outs[i])) != 0)
			return rc;
	return 0;
}

/* Where a frame logged on log_if goes: 1 with *out, 0 nowhere, or -status. */
static int canctl_playlog_route(struct canctl_play *p, const char *log_if,
				struct canctl_play_out **out)
{
	struct canctl_play_out *o;
	int i;

	if (p->n_maps > 0) {
		for (i = 0; i < p->n_maps; i++)
			if (strcmp(p->maps[i].log_if, log_if) == 0)
				break;
		if (i == p->n_maps)
			return 0; /* not assigned: not played */
		o = &p->outs[p->maps[i].out];
	} else if ((o = canctl_playlog_out(p, log_if)) == NULL) {
		fprintf(stderr, "canctl: %s:%lu: more than %d interfaces\n",
			p->in_name, p->line, CANCTL_PLAY_MAX_OUTS);
		return -1;
	} else if (canctl_playlog_connect(p, o) != 0) {
		fprintf(stderr, "canctl: %s:%lu: cannot send on %s\n",
			p->in_name, p->line, log_if);
		return -1;
	}
	*out = strcmp(o->name, "stdout") == 0 ? NULL : o;
	return 1;
}

/* The next line into p->buf, '\n' kept; 1, 0 at the end, or -status. */
static int canctl_playlog_line(struct canctl_play *p)
{
	ssize_t n;

	errno = 0;
	if ((n = getline(&p->buf, &p->buf_size, p->in)) < 0) {
		if (errno == 0 || feof(p->in))
			return 0;
		fprintf(stderr, "canctl: %s: %s\n", p->in_name,
			strerror(errno));
		return -1;
	}
	p->line++;
	if (n > CANCTL_PLAYLOG_MAX_LINE || strlen(p->buf) != (size_t)n) {
		fprintf(stderr, "canctl: %s:%lu: not a log line (%s)\n",
			p->in_name, p->line,
			n > CANCTL_PLAYLOG_MAX_LINE ? "too long"
						    : "a NUL byte");
		return p->keep_going ? 2 : -2;
	}
	return 1;
}

int canctl_playlog_next(struct canctl_play *p, struct canctl_play_frame *pf,
			struct canctl_play_out **out)
{
	const char *why;
	int rc;

	for (;;) {
		if ((rc = canctl_playlog_line(p)) <= 0)
			return rc;
		if (rc == 2 || p->buf[0] != '(')
			continue; /* a skipped line, or a comment */
		if (frametext_parse_log(p->buf, &pf->f, &why) < 0) {
			fprintf(stderr, "canctl: %s:%lu: %s: %s%s\n",
				p->in_name, p->line,
				p->keep_going ? "skipped" : "bad line", why,
				p->keep_going ? "" : "; nothing after it sent");
			if (p->keep_going)
				continue;
			return -2;
		}
		pf->line = p->line;
		pf->text = p->buf;
		if ((rc = canctl_playlog_route(p, pf->f.ifname, out)) != 0)
			return rc;
	}
}
