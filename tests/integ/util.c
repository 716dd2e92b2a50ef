/* Test cases, time, libcand handles and frames. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Generous: a test is a few seconds of timeouts at most, more under
 * valgrind, where run-all.sh sets CK_TIMEOUT_MULTIPLIER as well. */
#define TEST_TIMEOUT_S 30

TCase *util_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, TEST_TIMEOUT_S);
	return tc;
}

void util_msleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

uint64_t util_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- libcand ---- */

cand_t *util_connect(void)
{
	cand_t *h = NULL;
	int rc = cand_connect(&h, NULL);

	ck_assert_msg(rc == 0, "cand_connect(%s): %s",
		      getenv("CAND_SOCKET") ? getenv("CAND_SOCKET") : "default",
		      cand_strerror(rc));
	ck_assert_ptr_nonnull(h);
	return h;
}

cand_t *util_open_opts(const struct cand_options *opts)
{
	cand_t *h = util_connect();
	int rc = cand_open(h, opts);

	ck_assert_msg(rc == 0, "cand_open(%s): %s (%s)", opts->channel,
		      cand_strerror(rc), cand_last_detail(h));
	return h;
}

cand_t *util_open(const char *channel)
{
	struct cand_options o;

	cand_options_init(&o);
	o.channel = channel;
	return util_open_opts(&o);
}

cand_t *util_open_fd(const char *channel)
{
	struct cand_options o;

	cand_options_init(&o);
	o.channel = channel;
	o.fd = 1;
	return util_open_opts(&o);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

struct cand_frame util_frame(uint32_t id, uint32_t flags, const char *hex)
{
	struct cand_frame f;
	size_t n = strlen(hex) / 2, i;

	memset(&f, 0, sizeof(f));
	ck_assert_msg(strlen(hex) % 2 == 0 && n <= CAND_MAX_DLEN,
		      "bad test frame data %s", hex);
	f.id = id;
	f.flags = flags;
	f.len = (uint8_t)n;
	for (i = 0; i < n; i++)
		f.data[i] = (uint8_t)(hexval(hex[2 * i]) << 4 |
				      hexval(hex[2 * i + 1]));
	return f;
}

void util_send(cand_t *h, const struct cand_frame *frames, size_t n)
{
	int rc = cand_send(h, frames, n, 1000);

	ck_assert_msg(rc == (int)n, "cand_send of %zu frames: %d %s (%s)", n,
		      rc, rc < 0 ? cand_strerror(rc) : "", cand_last_detail(h));
}

void util_recv_ok(cand_t *h, struct cand_frame *f, const char *what)
{
	int rc = cand_recv(h, f, RX_TIMEOUT_MS);

	ck_assert_msg(rc == 1, "%s: cand_recv: %d %s (%s)", what, rc,
		      cand_strerror(rc), cand_last_detail(h));
}

void util_recv_none(cand_t *h, int settle_ms, const char *what)
{
	struct cand_frame f;
	char buf[192];
	int rc = cand_recv(h, &f, settle_ms);

	ck_assert_msg(rc == CAND_ETIMEOUT, "%s: expected nothing, got %s", what,
		      rc == 1 ? util_frame_str(&f, buf, sizeof(buf))
			      : cand_strerror(rc));
}

size_t util_collect(cand_t *h, struct cand_frame *out, size_t max, size_t want,
		    int settle_ms)
{
	struct cand_frame scratch;
	size_t n = 0;
	int rc;

	while (n < want && n < max) {
		rc = cand_recv(h, &out[n], RX_TIMEOUT_MS);
		if (rc != 1)
			return n;
		n++;
	}
	for (;;) {
		rc = cand_recv(h, n < max ? &out[n] : &scratch, settle_ms);
		if (rc != 1)
			return n;
		if (n < max)
			n++;
	}
}

#define CMP_FLAGS                                                              \
	(CAND_FRAME_EXTENDED | CAND_FRAME_REMOTE | CAND_FRAME_ERROR |          \
	 CAND_FRAME_FD | CAND_FRAME_BRS | CAND_FRAME_ESI)

int util_frame_eq(const struct cand_frame *a, const struct cand_frame *b)
{
	if (a->id != b->id || (a->flags & CMP_FLAGS) != (b->flags & CMP_FLAGS))
		return 0;
	if (a->len != b->len)
		return 0;
	if (a->flags & CAND_FRAME_REMOTE)
		return 1;
	return memcmp(a->data, b->data, a->len) == 0;
}

const char *util_frame_str(const struct cand_frame *f, char *buf, size_t size)
{
	size_t off;
	unsigned i;

	off = (size_t)snprintf(buf, size, "%s%s%X#", f->ifname,
			       f->ifname[0] ? " " : "", (unsigned)f->id);
	for (i = 0;
	     i < f->len && !(f->flags & CAND_FRAME_REMOTE) && off + 3 < size;
	     i++)
		off += (size_t)snprintf(buf + off, size - off, "%02X",
					f->data[i]);
	if (off < size)
		snprintf(buf + off, size - off, " len %u flags%s%s%s%s%s%s%s",
			 f->len, f->flags & CAND_FRAME_EXTENDED ? " ext" : "",
			 f->flags & CAND_FRAME_REMOTE ? " rtr" : "",
			 f->flags & CAND_FRAME_ERROR ? " err" : "",
			 f->flags & CAND_FRAME_FD ? " fd" : "",
			 f->flags & CAND_FRAME_BRS ? " brs" : "",
			 f->flags & CAND_FRAME_ESI ? " esi" : "",
			 f->flags & CAND_FRAME_OWN ? " own" : "");
	return buf;
}

int util_try_connect_as(cand_t **h, const char *path, uid_t uid, gid_t gid)
{
	int rc;

	/* Effective ids are what the kernel records at connect(). */
	ck_assert_int_eq(setegid(gid), 0);
	ck_assert_int_eq(seteuid(uid), 0);
	rc = cand_connect(h, path);
	ck_assert_int_eq(seteuid(0), 0);
	ck_assert_int_eq(setegid(0), 0);
	return rc;
}

cand_t *util_connect_as(const char *path, uid_t uid, gid_t gid)
{
	cand_t *h = NULL;
	int rc = util_try_connect_as(&h, path, uid, gid);

	ck_assert_msg(rc == 0, "connect to %s as %u:%u: %s", path,
		      (unsigned)uid, (unsigned)gid, cand_strerror(rc));
	return h;
}

int util_try_open(cand_t *h, const char *channel)
{
	struct cand_options o;

	cand_options_init(&o);
	o.channel = channel;
	return cand_open(h, &o);
}
