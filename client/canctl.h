/*
 * canctl's command table and what its commands share. A command is a
 * file of its own (canctl_NAME.c, or one per family) that defines a
 * struct canctl_cmd, plus its line in canctl.c's table.
 */
#ifndef CAND_CANCTL_H
#define CAND_CANCTL_H

#include <signal.h>
#include <stdint.h>

#include "cand.h"

#define CANCTL_ANY "any" /* candump's name for every interface */

struct canctl_cmd {
	const char *name;
	const char *args; /* the synopsis after the name, maybe "" */
	const char *help; /* what it does: lines, each ending in '\n' */
	/* argv[0] is the name; returns the exit status. */
	int (*exec)(const char *sock, int argc, char **argv);
};

/* canctl.c: the message and the usage to stderr; return exit status 2. */
int canctl_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* getopt() returned ch for a bad option in argv. */
int canctl_bad_option(int ch, char **argv);

/* canctl_util.c */
/* Prints what failed, with the daemon's detail; returns 1. */
int canctl_util_fail(cand_t *h, int err, const char *what);
/* Connects or says why not; 0 or 1. */
int canctl_util_connect(const char *sock, cand_t **h);
/* Connects and opens iface for tasks and monitors only; 0 or 1. */
int canctl_util_open_quiet(const char *sock, const char *iface, int fd,
			   cand_t **h);
/* Milliseconds, 0 or more; 0 or a usage error (2). */
int canctl_util_timeout(const char *s, int *ms);
/* A count, 1 or more; 0 or a usage error (2). */
int canctl_util_count(const char *s, long *count);
/* A duration option into microseconds; 0 or a usage error (2). */
int canctl_util_duration(const char *opt, const char *s, uint64_t *us);
/* One interface, not "" and not "any"; 0 or a usage error (2). */
int canctl_util_iface(const char *cmd, const char *iface);
/*
 * cmd's "iface frame ..." words: one interface, and cansend-syntax frames
 * into a malloc'd array of argc - 1; 0 or the exit status.
 */
int canctl_util_frames(const char *cmd, int argc, char **argv,
		       struct cand_frame **out, int *fd);
/* A line to stderr, after what stdout has so far. */
void canctl_util_note(const char *what);
/* Blocks the stop signals; *waitmask lets them through in ppoll(). */
void canctl_util_signals(sigset_t *waitmask);
/* A stop signal came. */
int canctl_util_stopped(void);
/*
 * Hands every event to handle() until a stop signal, until handle()
 * returns nonzero (its value minus one is the exit status), until
 * idle_ms (>= 0) pass without any, or until receiving fails (what). A
 * reconnection is said on stderr (and handed on).
 */
int canctl_util_events(cand_t *h, int idle_ms, const sigset_t *waitmask,
		       const char *what,
		       int (*handle)(void *, const struct cand_event *),
		       void *arg);

#endif
