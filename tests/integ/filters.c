/*
 * Receive filters with python-can's semantics: (frame.id & mask) ==
 * (id & mask); kind ANY applies the mask to the id whatever its format,
 * STANDARD and EXTENDED restrict the format too; invert is candump's ~.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define STD 0
#define EXT CAND_FRAME_EXTENDED
#define RTR CAND_FRAME_REMOTE

/* The mix every filter test sends, from a raw socket, in this order. */
static const struct {
	uint32_t id;
	uint32_t flags;
} mix[] = {
	{0x123, STD},	    /* 0 */
	{0x123, EXT},	    /* 1: same low bits, 29-bit */
	{0x1000123, EXT},   /* 2: low 11 bits 0x123 */
	{0x124, STD},	    /* 3 */
	{0x456, STD},	    /* 4 */
	{0x123, STD | RTR}, /* 5 */
	{0x100, STD},	    /* 6 */
	{0x10F, STD},	    /* 7 */
	{0x110, STD},	    /* 8 */
	{0x1ABCDE01, EXT},  /* 9 */
	{0x1ABCDF01, EXT},  /* 10 */
	{0x200, STD},	    /* 11 */
};
#define N_MIX (sizeof(mix) / sizeof(mix[0]))

static struct cand_frame mix_frame(size_t i)
{
	struct cand_frame f = util_frame(mix[i].id, mix[i].flags, "");

	if (!(mix[i].flags & RTR)) {
		f.len = 2;
		f.data[0] = (uint8_t)i;
		f.data[1] = 0x5A;
	}
	return f;
}

static void send_mix(void)
{
	int s = util_raw_open("vcan0", 0);
	struct cand_frame f;
	size_t i;

	for (i = 0; i < N_MIX; i++) {
		f = mix_frame(i);
		util_raw_send(s, &f);
	}
	close(s);
}

/*
 * Asserts that h receives exactly the mix entries listed in want[] (indices,
 * -1 terminated), in order, and nothing else within the settle time.
 */
static void expect_mix(cand_t *h, const int *want, const char *what)
{
	struct cand_frame got[N_MIX + 4], exp;
	size_t n_want = 0, n, i;
	char buf[192];

	while (want[n_want] >= 0)
		n_want++;
	n = util_collect(h, got, N_MIX + 4, n_want, SETTLE_MS);
	for (i = 0; i < n && i < n_want; i++) {
		exp = mix_frame((size_t)want[i]);
		util_assert_frame(&got[i], &exp, what);
	}
	ck_assert_msg(n == n_want, "%s: got %zu frames, want %zu%s%s", what, n,
		      n_want, n > n_want ? "; first extra: " : "",
		      n > n_want
			      ? util_frame_str(&got[n_want], buf, sizeof(buf))
			      : "");
}

static cand_t *open_filtered(const struct cand_filter *flt, size_t n)
{
	struct cand_options o;

	cand_options_init(&o);
	o.channel = "vcan0";
	o.filters = flt;
	o.n_filters = n;
	return util_open_opts(&o);
}

START_TEST(test_two_clients_own_sets)
{
	struct cand_filter fa = {0x100, 0x7F0, CAND_FILTER_STANDARD, 0};
	struct cand_filter fb = {0x1ABCDE00, 0x1FFFFF00, CAND_FILTER_EXTENDED,
				 0};
	cand_t *a = open_filtered(&fa, 1);
	cand_t *b = open_filtered(&fb, 1);
	cand_t *all = util_open("vcan0");
	int want_a[] = {6, 7, -1};
	int want_b[] = {9, -1};
	int want_all[N_MIX + 1];
	size_t i;

	for (i = 0; i < N_MIX; i++)
		want_all[i] = (int)i;
	want_all[N_MIX] = -1;
	send_mix();
	expect_mix(a, want_a, "client A 100:7F0 standard");
	expect_mix(b, want_b, "client B 1ABCDE00:1FFFFF00 extended");
	expect_mix(all, want_all, "unfiltered client");
	cand_close(a);
	cand_close(b);
	cand_close(all);
}
END_TEST

/* python-can without "extended": an 11-bit mask matches 29-bit ids too. */
START_TEST(test_kind_any)
{
	struct cand_filter f = {0x123, 0x7FF, CAND_FILTER_ANY, 0};
	cand_t *h = open_filtered(&f, 1);
	int want[] = {0, 1, 2, 5, -1};

	send_mix();
	expect_mix(h, want, "123:7FF kind ANY");
	cand_close(h);
}
END_TEST

START_TEST(test_kind_standard)
{
	struct cand_filter f = {0x123, 0x7FF, CAND_FILTER_STANDARD, 0};
	cand_t *h = open_filtered(&f, 1);
	int want[] = {0, 5, -1};

	send_mix();
	expect_mix(h, want, "123:7FF kind STANDARD");
	cand_close(h);
}
END_TEST

START_TEST(test_kind_extended)
{
	struct cand_filter f = {0x123, 0x7FF, CAND_FILTER_EXTENDED, 0};
	cand_t *h = open_filtered(&f, 1);
	int want[] = {1, 2, -1};

	send_mix();
	expect_mix(h, want, "123:7FF kind EXTENDED");
	cand_close(h);
}
END_TEST

START_TEST(test_exact_extended_id)
{
	struct cand_filter f = {0x1000123, 0x1FFFFFFF, CAND_FILTER_EXTENDED, 0};
	cand_t *h = open_filtered(&f, 1);
	int want[] = {2, -1};

	send_mix();
	expect_mix(h, want, "1000123:1FFFFFFF kind EXTENDED");
	cand_close(h);
}
END_TEST

/* candump's 123~7FF: everything whose low 11 bits are not 0x123. */
START_TEST(test_inverted)
{
	struct cand_filter f = {0x123, 0x7FF, CAND_FILTER_ANY, 1};
	cand_t *h = open_filtered(&f, 1);
	int want[] = {3, 4, 6, 7, 8, 9, 10, 11, -1};

	send_mix();
	expect_mix(h, want, "123~7FF");
	cand_close(h);
}
END_TEST

START_TEST(test_several_filters_or)
{
	struct cand_filter f[] = {
		{0x124, 0x7FF, CAND_FILTER_STANDARD, 0},
		{0x200, 0x7FF, CAND_FILTER_ANY, 0},
		{0x1ABCDF01, 0x1FFFFFFF, CAND_FILTER_EXTENDED, 0},
	};
	cand_t *h = open_filtered(f, 3);
	int want[] = {3, 10, 11, -1};

	send_mix();
	expect_mix(h, want, "three filters");
	cand_close(h);
}
END_TEST

START_TEST(test_set_filters_at_runtime)
{
	struct cand_filter f1 = {0x456, 0x7FF, CAND_FILTER_STANDARD, 0};
	struct cand_filter f2 = {0x100, 0x7F0, CAND_FILTER_ANY, 0};
	cand_t *h = open_filtered(&f1, 1);
	int want1[] = {4, -1}, want2[] = {6, 7, -1}, want_all[N_MIX + 1];
	size_t i;
	int rc;

	send_mix();
	expect_mix(h, want1, "filter at open");

	rc = cand_set_filters(h, &f2, 1);
	ck_assert_msg(rc == 0, "cand_set_filters: %s (%s)", cand_strerror(rc),
		      cand_last_detail(h));
	send_mix();
	expect_mix(h, want2, "filter replaced");

	rc = cand_set_filters(h, NULL, 0);
	ck_assert_msg(rc == 0, "cand_set_filters(NULL): %s (%s)",
		      cand_strerror(rc), cand_last_detail(h));
	for (i = 0; i < N_MIX; i++)
		want_all[i] = (int)i;
	want_all[N_MIX] = -1;
	send_mix();
	expect_mix(h, want_all, "filters cleared");
	cand_close(h);
}
END_TEST

/* Sending is not filtered: a filtered client still sends what it wants. */
START_TEST(test_filters_do_not_affect_send)
{
	struct cand_filter f = {0x7FF, 0x7FF, CAND_FILTER_STANDARD, 0};
	cand_t *h = open_filtered(&f, 1);
	int s = util_raw_open("vcan0", 0);
	struct cand_frame fr = util_frame(0x123, 0, "01"), got;

	util_send(h, &fr, 1);
	util_raw_recv_ok(s, &got, "send from a filtered client");
	util_assert_frame(&got, &fr, "send from a filtered client");
	cand_close(h);
}
END_TEST

/* The kernel takes up to 512 filters (CAN_RAW_FILTER_MAX): more is a limit. */
START_TEST(test_filter_limits)
{
	enum { MAX = 512 };
	struct cand_filter *f = calloc(MAX + 1, sizeof(*f));
	struct cand_options o;
	cand_t *h;
	int want[] = {11, -1}, rc, i;

	ck_assert_ptr_nonnull(f);
	/* 0x200 last of 512: every one of them is in effect. */
	for (i = 0; i < MAX; i++)
		f[i] = (struct cand_filter){0x600 + (uint32_t)i % 0x100, 0x7FF,
					    CAND_FILTER_STANDARD, 0};
	f[MAX - 1].id = 0x200;

	h = util_connect();
	cand_options_init(&o);
	o.channel = "vcan0";
	o.filters = f;
	o.n_filters = MAX + 1;
	rc = cand_open(h, &o);
	ck_assert_msg(rc == CAND_ELIMIT, "open with %d filters: %d %s", MAX + 1,
		      rc, cand_strerror(rc));
	o.n_filters = MAX;
	rc = cand_open(h, &o);
	ck_assert_msg(rc == 0, "open with %d filters: %s (%s)", MAX,
		      cand_strerror(rc), cand_last_detail(h));
	send_mix();
	expect_mix(h, want, "512 filters");

	/* Out of range: ids and masks are at most 29 bits. */
	f[0] = (struct cand_filter){0x20000000, 0x1FFFFFFF, CAND_FILTER_ANY, 0};
	rc = cand_set_filters(h, f, 1);
	ck_assert_msg(rc == CAND_EINVAL, "filter id 0x20000000: %d %s", rc,
		      cand_strerror(rc));
	rc = cand_set_filters(h, f, MAX + 1);
	ck_assert_msg(rc == CAND_ELIMIT, "set_filters with %d: %d %s", MAX + 1,
		      rc, cand_strerror(rc));
	/* The filters in effect are still the 512. */
	send_mix();
	expect_mix(h, want, "512 filters after refused changes");
	free(f);
	cand_close(h);
}
END_TEST

Suite *filter_suite(void)
{
	Suite *s = suite_create("filters");
	TCase *tc = util_tcase("filters");

	tcase_add_test(tc, test_two_clients_own_sets);
	tcase_add_test(tc, test_kind_any);
	tcase_add_test(tc, test_kind_standard);
	tcase_add_test(tc, test_kind_extended);
	tcase_add_test(tc, test_exact_extended_id);
	tcase_add_test(tc, test_inverted);
	tcase_add_test(tc, test_several_filters_or);
	tcase_add_test(tc, test_set_filters_at_runtime);
	tcase_add_test(tc, test_filters_do_not_affect_send);
	tcase_add_test(tc, test_filter_limits);
	suite_add_tcase(s, tc);
	return s;
}
