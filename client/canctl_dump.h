/*
 * canctl dump's parts: the interfaces and filters of candump's command
 * line (canctl_dumpargs.c) and the command that receives and prints
 * (canctl_dump.c).
 */
#ifndef CAND_CANCTL_DUMP_H
#define CAND_CANCTL_DUMP_H

#include <stddef.h>

#include "cand.h"

#define CANCTL_DUMP_MAX_IFS 16 /* as candump */

/* One interface of the command line, with its filters and handle. */
struct canctl_dump_if {
	char name[CAND_IFNAMSIZ]; /* or "any" */
	struct cand_filter *filters;
	size_t n_filters;
	cand_t *h;
};

struct canctl_dump_ifs {
	struct canctl_dump_if v[CANCTL_DUMP_MAX_IFS];
	int n;
	int width; /* the longest name given, where candump's columns start */
};

/*
 * candump's words: "iface[,filter]...", each filter word after one
 * belonging to it, and "can0,can1" naming two interfaces. A filter is
 * id:mask or id~mask. Returns 0 or the exit status, with the message
 * printed.
 */
int canctl_dumpargs_parse(struct canctl_dump_ifs *ifs, int argc, char **argv);
/* Frees the filters and closes the handles. */
void canctl_dumpargs_free(struct canctl_dump_ifs *ifs);

#endif
