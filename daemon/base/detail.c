/*
 * Detail strings: every refusal says why in words, so that a client (and
 * whoever reads its log) learns more than an errno.
 */
#include <stdio.h>
#include <string.h>

#include "base/base.h"

void detail_set(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

void detail_append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len;
	va_list ap;

	if (size == 0)
		return;
	len = strlen(buf);
	if (len >= size - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}
