/*
 * canctl play's parts: reading the log and mapping its interfaces to
 * handles (canctl_playlog.c), and the timing and sending
 * (canctl_play.c).
 */
#ifndef CAND_CANCTL_PLAY_H
#define CAND_CANCTL_PLAY_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "cand.h"

#define CANCTL_PLAY_MAX_OUTS 20 /* interfaces, as canplayer */
#define CANCTL_PLAY_BATCH    256
/* The lines of the frames sent ahead (4 requests) and not yet answered. */
#define CANCTL_PLAY_RING (4 * CANCTL_PLAY_BATCH)

/* An interface frames go to, with the frames due for it now. */
struct canctl_play_out {
	char name[CAND_IFNAMSIZ];
	cand_t *h;		       /* NULL: stdout */
	struct cand_frame *batch;      /* CANCTL_PLAY_BATCH of them */
	unsigned long *lines;	       /* where each came from in the log */
	char (*logged)[CAND_IFNAMSIZ]; /* and the interface it names */
	size_t n;
	/* The line of every frame sent and not yet known to be on the bus. */
	unsigned long *ring;
	uint64_t submitted, confirmed;
};

/* canplayer's write-if=log-if. */
struct canctl_play_map {
	char log_if[CAND_IFNAMSIZ];
	int out; /* index into outs[] */
};

/* A frame of the log: f.ifname is the logged interface. */
struct canctl_play_frame {
	struct cand_frame f;
	unsigned long line;
	const char *text; /* the line as read, for stdout= */
};

struct canctl_play {
	const char *sock;
	FILE *in;
	const char *in_name;
	char *buf;
	size_t buf_size;
	unsigned long line;
	struct canctl_play_out outs[CANCTL_PLAY_MAX_OUTS];
	int n_outs;
	struct canctl_play_out *pending; /* the one with frames queued */
	struct canctl_play_map maps[CANCTL_PLAY_MAX_OUTS];
	int n_maps;
	/* Options. */
	int use_ts, loopback, keep_going, verbose;
	uint64_t gap_ns, skip_ns;
	long loops; /* passes left, -1 for ever */
	long count; /* frames left, -1 no limit */
	/* Timing. */
	int timer; /* a timerfd on CLOCK_MONOTONIC */
	const sigset_t *waitmask;
	int started, done;
	uint64_t base_mono, base_ts, last_ts, next;
};

/* canctl_play.c: CLOCK_MONOTONIC in ns. */
uint64_t canctl_play_now(void);

/* canctl_playlog.c */
/* Opens the log (NULL or "-": stdin); 0 or the exit status. */
int canctl_playlog_open(struct canctl_play *p, const char *path);
void canctl_playlog_close(struct canctl_play *p);
/* Back to the first line for the next pass; 0 or the exit status. */
int canctl_playlog_rewind(struct canctl_play *p);
/* The write-if=log-if words; 0 or the exit status. */
int canctl_playlog_maps(struct canctl_play *p, int argc, char **argv);
/* Opens the assignments' interfaces, so a wrong one sends nothing. */
int canctl_playlog_open_maps(struct canctl_play *p);
/*
 * The next frame to play and where it goes (*out NULL: stdout): 1, 0 at
 * the end of the log, or minus the exit status (a malformed line, an
 * interface that cannot be opened), its message printed.
 */
int canctl_playlog_next(struct canctl_play *p, struct canctl_play_frame *pf,
			struct canctl_play_out **out);

#endif
