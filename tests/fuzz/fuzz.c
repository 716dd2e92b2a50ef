/* What the fuzz targets share; see fuzz.h. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

/*
 * The daemon's configuration in the conn and frames targets: some rights
 * on some interfaces and not others, and limits low enough that small
 * inputs reach them.
 */
const char fuzz_conf[] = "[limits]\n"
			 "max_clients = 4\n"
			 "max_message_size = 4K\n"
			 "max_filters = 16\n"
			 "max_periodic_tasks = 4\n"
			 "max_monitors = 4\n"
			 "output_high_watermark = 64K\n"
			 "output_low_watermark = 16K\n"
			 "[rule read]\n"
			 "interfaces = *\n"
			 "users = *\n"
			 "rights = read\n"
			 "[rule send]\n"
			 "interfaces = vcan0 can* lo\n"
			 "users = *\n"
			 "rights = send periodic monitor\n"
			 "send_ids = 100-1FF 700/700\n"
			 "send_ext_ids = 18DA00F1/1FFF00FF\n"
			 "[rule configure]\n"
			 "interfaces = can1\n"
			 "users = *\n"
			 "rights = configure\n";

/* To fd 2, not stderr: that may be a fuzz_log just now. */
void fuzz_fail(const char *what, const char *file, int line)
{
	dprintf(STDERR_FILENO, "%s:%d: check failed: %s\n", file, line, what);
	abort();
}

void fuzz_die(const char *why)
{
	dprintf(STDERR_FILENO, "fuzz: %s: %s\n", why, strerror(errno));
	abort();
}

void *fuzz_alloc(size_t size)
{
	void *p = malloc(size > 0 ? size : 1);

	if (p == NULL)
		fuzz_die("malloc");
	return p;
}

void *fuzz_realloc(void *p, size_t size)
{
	if ((p = realloc(p, size > 0 ? size : 1)) == NULL)
		fuzz_die("realloc");
	return p;
}

char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = fuzz_alloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

void fuzz_isolate(void)
{
	if (geteuid() == 0 && unshare(CLONE_NEWNET) < 0)
		fuzz_die("unshare(CLONE_NEWNET)");
}

void fuzz_log_begin(struct fuzz_log *l)
{
	l->text = NULL;
	l->len = 0;
	if ((l->f = open_memstream(&l->text, &l->len)) == NULL)
		fuzz_die("open_memstream");
	/* glibc's stderr is a variable like any other (its manual says so). */
	l->saved = stderr;
	stderr = l->f;
}

void fuzz_log_end(struct fuzz_log *l)
{
	stderr = l->saved;
	if (fclose(l->f) != 0)
		fuzz_die("open_memstream");
	/* To see what the daemon said while reproducing a crash. */
	if (getenv("FUZZ_LOG") != NULL)
		dprintf(STDERR_FILENO, "%s", l->text);
}

void fuzz_log_free(struct fuzz_log *l)
{
	free(l->text);
	l->text = NULL;
}
