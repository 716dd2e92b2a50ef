/*
 * canctl's commands and the helpers they share: canctl.c has the frame
 * commands and main(), canctl_bus.c the bus health ones.
 */
#ifndef CAND_CANCTL_H
#define CAND_CANCTL_H

#include "cand.h"

/* Prints the message and the usage to stderr; returns exit status 2. */
int canctl_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* getopt() returned ch for a bad option; returns 2. */
int canctl_bad_option(int ch);
/* Prints what failed, with the daemon's detail; returns 1. */
int canctl_fail(cand_t *h, int err, const char *what);
/* Connects or says why not; 0 or 1. */
int canctl_connect(const char *sock, cand_t **h);
/* A non-negative int; 0 or -1. */
int canctl_ms(const char *s, int *out);

/* canctl_bus.c */
#define CANCTL_BUS_USAGE                                                       \
	"  state [iface]\n"                                                    \
	"      bus state, error counters, bit timing, controller mode and\n"   \
	"      statistics of one or every CAN interface\n"                     \
	"  set iface setting ...\n"                                            \
	"      change the configuration (root): bitrate N [sample-point "      \
	"0.875]\n"                                                             \
	"      dbitrate N [dsample-point 0.8] restart-ms N, on|off for "       \
	"loopback\n"                                                           \
	"      listen-only triple-sampling one-shot berr-reporting fd "        \
	"presume-ack\n"                                                        \
	"      fd-non-iso cc-len8-dlc, and up or down; an interface that is "  \
	"up is\n"                                                              \
	"      taken down for bit timing and modes and brought back up\n"      \
	"  restart iface\n"                                                    \
	"      restart a controller after bus-off (root)\n"                    \
	"  events [-n count] [-T ms] [iface]\n"                                \
	"      print state, link and configuration events of one or every "    \
	"CAN\n"                                                                \
	"      interface as lines, until interrupted\n"

int canctl_state(const char *sock, int argc, char **argv);
int canctl_set(const char *sock, int argc, char **argv);
int canctl_restart(const char *sock, int argc, char **argv);
int canctl_events(const char *sock, int argc, char **argv);

#endif
