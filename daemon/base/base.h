/*
 * base/: what every layer may use. Logging, the detail strings that say
 * why an operation failed, systemd's notify protocol, and the output
 * queue through which everything reaches a client (outq.h, evt.h).
 */
#ifndef CAND_DAEMON_BASE_BASE_H
#define CAND_DAEMON_BASE_BASE_H

#include <stdarg.h>
#include <stddef.h>

#include "base/evt.h"
#include "base/outq.h"
#include "daemon.h"

/* log.c: journald-style "<N>" prefixes on stderr. */
void log_init(void);
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * detail.c: the human-readable reason an operation gives with its -errno.
 * A NULL buf (size 0) is fine: the caller did not want one.
 */
void detail_set(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Appends to what buf already says. */
void detail_append(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* notify.c: systemd's notify protocol (no-ops outside systemd). */
int notify_init(struct cand_ctx *ctx);
void notify_free(struct cand_ctx *ctx);
void notify_ready(struct cand_ctx *ctx);
void notify_reloading(struct cand_ctx *ctx);
void notify_stopping(struct cand_ctx *ctx);
/* The client or interface count changed: STATUS= soon, rate-limited. */
void notify_status(struct cand_ctx *ctx);

#endif
