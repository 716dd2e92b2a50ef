/*
 * What the fuzz targets share: checks that hold with NDEBUG too, memory
 * that cannot fail quietly, the daemon's log caught per input, and a
 * network namespace of their own.
 */
#ifndef CAND_FUZZ_H
#define CAND_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* libFuzzer's entry points. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* cand.conf for the targets that build a daemon context or a policy. */
extern const char fuzz_conf[];

/* A broken promise: the message, then abort() for libFuzzer to report. */
#define FUZZ_CHECK(cond)                                                       \
	((cond) ? (void)0 : fuzz_fail(#cond, __FILE__, __LINE__))
void fuzz_fail(const char *what, const char *file, int line)
	__attribute__((noreturn));
/* The target itself cannot go on (no socket, no memory). */
void fuzz_die(const char *why) __attribute__((noreturn));

void *fuzz_alloc(size_t size);
void *fuzz_realloc(void *p, size_t size);
/* The input as a NUL-terminated string (a NUL inside ends it early). */
char *fuzz_string(const uint8_t *data, size_t size);

/*
 * As root, a network namespace of our own: only a down lo, so nothing a
 * target does reaches the host's interfaces, and every host looks alike;
 * and a mount namespace where users, groups and hosts come from /etc's
 * files alone (fuzz.c says why).
 */
void fuzz_isolate(void);

/*
 * What the daemon logs (base/log.c writes to stderr) between begin and
 * end, in text; the sanitizers and libFuzzer write to fd 2 themselves.
 * With FUZZ_LOG set in the environment it goes to fd 2 as well.
 */
struct fuzz_log {
	FILE *saved;
	FILE *f;
	char *text;
	size_t len;
};
void fuzz_log_begin(struct fuzz_log *l);
void fuzz_log_end(struct fuzz_log *l);
void fuzz_log_free(struct fuzz_log *l);

struct event_base;

/* What the daemon wrote back to a target's client end. */
struct fuzz_seen {
	char *buf;
	size_t len, cap;
	int eof;
};

/*
 * Runs base and a client on peer until neither has anything left to do
 * for idle rounds: data written as the socket takes it, what comes back
 * read into s. More than max_rounds is a daemon spinning: abort.
 * daemon_fd, the daemon's end, tells whether it still reads.
 */
void fuzz_pump(struct event_base *base, int peer, int daemon_fd,
	       const uint8_t *data, size_t size, struct fuzz_seen *s, int idle,
	       int max_rounds);

#endif
