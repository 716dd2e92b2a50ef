/*
 * The can-utils text formats canctl reads: the first byte picks the
 * parser, the rest is the text (a NUL ends it, as in argv or a line).
 *
 *   0  a cansend frame        frametext_parse()
 *   1  a candump -L log line  frametext_parse_log()
 *   2  a candump filter       filtertext_parse()
 *   3  a duration             timetext_parse_us()
 *
 * Beyond the sanitizers: a refusal always says why; what parses is within
 * the bus's bounds, prints within FRAMETEXT_MAX, and reads back as the
 * same thing from what canctl prints of it (cansend, candump -L, and a
 * duration in microseconds).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filtertext.h"
#include "frametext.h"
#include "fuzz.h"
#include "timetext.h"

#define FUZZ_TEXT_EFF_MASK 0x1fffffffu
#define FUZZ_TEXT_SFF_MASK 0x7ffu

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static int fuzz_text_refused(int rc, const char *why)
{
	FUZZ_CHECK(rc == CAND_EINVAL);
	FUZZ_CHECK(why != NULL && why[0] != '\0');
	return rc;
}

static void fuzz_text_bounds(const struct cand_frame *f)
{
	FUZZ_CHECK(f->id <=
		   ((f->flags & (CAND_FRAME_EXTENDED | CAND_FRAME_ERROR))
			    ? FUZZ_TEXT_EFF_MASK
			    : FUZZ_TEXT_SFF_MASK));
	/* An FD length between the valid ones is padded, as by cansend. */
	FUZZ_CHECK(f->len <= ((f->flags & CAND_FRAME_FD) ? 64 : 8));
	FUZZ_CHECK(!(f->flags & CAND_FRAME_REMOTE) ||
		   !(f->flags & (CAND_FRAME_FD | CAND_FRAME_ERROR)));
	FUZZ_CHECK(memchr(f->ifname, '\0', sizeof(f->ifname)) != NULL);
}

/* The fields a text form carries; a remote frame's data is not one. */
static void fuzz_text_same(const struct cand_frame *a,
			   const struct cand_frame *b)
{
	FUZZ_CHECK(a->id == b->id);
	FUZZ_CHECK(a->flags == b->flags);
	FUZZ_CHECK(a->len == b->len);
	FUZZ_CHECK((a->flags & CAND_FRAME_REMOTE) ||
		   memcmp(a->data, b->data, a->len) == 0);
}

/* Prints f both ways canctl does and reads the texts back. */
static void fuzz_text_print(struct cand_frame *f)
{
	struct frametext_view v;
	struct cand_frame back;
	char buf[FRAMETEXT_MAX];
	const char *why = NULL;
	int n;

	fuzz_text_bounds(f);
	n = frametext_format_frame(buf, sizeof(buf), f);
	FUZZ_CHECK(n > 0 && n < (int)sizeof(buf));
	FUZZ_CHECK(frametext_parse(buf, &back, &why) == 0);
	fuzz_text_same(f, &back);

	frametext_view_init(&v, 3);
	n = frametext_format_candump(buf, sizeof(buf), f, &v);
	FUZZ_CHECK(n > 0 && n < (int)sizeof(buf));
	n = frametext_format_log(buf, sizeof(buf), f, NULL);
	FUZZ_CHECK(n > 0 && n < (int)sizeof(buf));
	FUZZ_CHECK(frametext_parse_log(buf, &back, &why) == 0);
	fuzz_text_same(f, &back);
	FUZZ_CHECK(strcmp(f->ifname, back.ifname) == 0);
	/* The log keeps microseconds. */
	FUZZ_CHECK(f->timestamp_ns / 1000 == back.timestamp_ns / 1000);
}

static void fuzz_text_frame(const char *s, int log)
{
	struct cand_frame f;
	const char *why = NULL;
	int rc;

	rc = log ? frametext_parse_log(s, &f, &why)
		 : frametext_parse(s, &f, &why);
	if (rc < 0) {
		fuzz_text_refused(rc, why);
		return;
	}
	if (log) {
		/* The seconds are the line's, not what is left of them. */
		FUZZ_CHECK(f.timestamp_ns / 1000000000u ==
			   strtoull(s + 1, NULL, 10));
	} else {
		/* What canctl dump -L would print had it come in. */
		snprintf(f.ifname, sizeof(f.ifname), "vcan0");
		f.timestamp_ns = 1436509052249713000u;
	}
	fuzz_text_print(&f);
}

static void fuzz_text_filter(const char *s)
{
	struct cand_filter f;
	const char *why = NULL;
	int rc = filtertext_parse(s, &f, &why);

	if (rc < 0) {
		fuzz_text_refused(rc, why);
		return;
	}
	FUZZ_CHECK(f.id <= FUZZ_TEXT_EFF_MASK && f.mask <= FUZZ_TEXT_EFF_MASK);
	FUZZ_CHECK(f.kind == CAND_FILTER_ANY ||
		   f.kind == CAND_FILTER_STANDARD ||
		   f.kind == CAND_FILTER_EXTENDED);
	FUZZ_CHECK(f.invert == (strchr(s, '~') != NULL &&
				strcspn(s, ":~") == strcspn(s, "~")));
}

static void fuzz_text_duration(const char *s)
{
	char buf[32];
	const char *why = NULL;
	uint64_t us, back;
	int rc = timetext_parse_us(s, &us, &why);

	if (rc < 0) {
		fuzz_text_refused(rc, why);
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRIu64 "us", us);
	FUZZ_CHECK(timetext_parse_us(buf, &back, &why) == 0 && back == us);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	s = fuzz_string(data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		fuzz_text_frame(s, 0);
		break;
	case 1:
		fuzz_text_frame(s, 1);
		break;
	case 2:
		fuzz_text_filter(s);
		break;
	default:
		fuzz_text_duration(s);
		break;
	}
	free(s);
	return 0;
}
