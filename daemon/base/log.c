/*
 * Logging to stderr with sd-daemon "<N>" priority prefixes, which journald
 * turns into real priorities and a terminal user can still read.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "base/base.h"

void log_init(void)
{
	setvbuf(stderr, NULL, _IOLBF, 0);
}

/* The attribute lets clang's -Wformat=2 see fmt is checked at the callers. */
static void log_vprint(int prio, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void log_vprint(int prio, const char *fmt, va_list ap)
{
	fprintf(stderr, "<%d>", prio);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(LOG_ERR, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(LOG_INFO, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(LOG_DEBUG, fmt, ap);
	va_end(ap);
}
