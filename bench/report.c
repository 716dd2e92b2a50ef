/*
 * Every figure per row and repetition; the table and results.json show the
 * median over the repetitions (NAN, printed "-" or null, where a figure does
 * not apply or could not be measured).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_ROWS 96

struct row {
	char id[32];
	char label[40];
	char note[120];
	char problems[320];
	double v[BENCH_MAX_REPEAT][M_COUNT];
	unsigned nrep;
};

/* JSON name; for the note: text before and after the number, decimals. */
struct metric_info {
	const char *json;
	const char *pre, *post;
	int prec;
	int hide_zero;
};

static const struct metric_info minfo[M_COUNT] = {
	[M_FPS] = {"frames_per_s", NULL, NULL, 0, 0},
	[M_LOST] = {"lost", NULL, NULL, 0, 0},
	[M_P50] = {"p50_us", NULL, NULL, 1, 0},
	[M_P99] = {"p99_us", NULL, NULL, 1, 0},
	[M_CPU] = {"cpu_us_per_frame", NULL, NULL, 2, 0},
	[M_RATIO] = {"ratio_to_direct", NULL, NULL, 2, 0},
	[M_LOST_MAX] = {"lost_max_per_client", "max ", "/client", 0, 0},
	[M_AGG_FPS] = {"aggregate_frames_per_s", "sum ", " f/s", 0, 0},
	[M_CPU_CLIENT] = {"client_cpu_us_per_frame", "client ", " us/f", 2, 0},
	[M_CPU_TOTAL] = {"total_cpu_us_per_frame", "cand+client ", " us/f", 2,
			 0},
	[M_SENDER_CPU] = {"sender_cpu_us_per_frame", "sender ", " us/f", 2, 0},
	[M_SENT] = {"sent", "sent ", "", 0, 0},
	[M_SEND_FPS] = {"send_frames_per_s", "at ", " f/s", 0, 0},
	[M_ENOBUFS] = {"enobufs", "ENOBUFS ", "", 0, 1},
	[M_REORDER] = {"reordered", "REORDERED ", "", 0, 1},
	[M_DUPS] = {"duplicates", "DUPLICATES ", "", 0, 1},
	[M_TIMEOUTS] = {"timeouts", "TIMEOUTS ", "", 0, 1},
	[M_ERRORS] = {"errors", "ERRORS ", "", 0, 1},
	[M_RCVBUF] = {"rcvbuf", "SO_RCVBUF ", "", 0, 0},
	[M_P99_RATIO] = {"p99_ratio_to_direct", "p99 ratio ", "", 2, 0},
	[M_MEAN_US] = {"mean_us", "mean ", " us", 1, 0},
	[M_MAX_US] = {"max_us", "max ", " us", 1, 0},
	[M_PROBES_LOST] = {"probes_lost", "PROBES LOST ", "", 0, 1},
	[M_CLIENTS] = {"clients", "", " clients", 0, 0},
	[M_RSS_KIB] = {"rss_kib", "RSS ", " KiB", 0, 0},
	[M_HWM_KIB] = {"rss_high_water_kib", "RSS peak ", " KiB", 0, 0},
	[M_RSS_GROWTH_KIB] = {"rss_growth_kib", "+", " KiB", 0, 0},
	[M_PER_CLIENT_KIB] = {"rss_per_client_kib", "", " KiB/client", 2, 0},
	[M_SLAB_PER_CLIENT] = {"kernel_slab_per_client_kib", "kernel slab ",
			       " KiB/client", 2, 0},
	[M_STALL_GOT] = {"stalled_received", "stalled: got ", "", 0, 0},
	[M_STALL_DROPS] = {"stalled_kernel_drops", "stalled: kernel drops ", "",
			   0, 0},
	[M_STALL_UNSEEN] = {"stalled_lost_unreported",
			    "stalled: lost but not in kernel drops ", "", 0, 1},
	[M_DROPS] = {"kernel_drops", "kernel drops ", "", 0, 1},
	[M_CPU_STAT] = {"cpu_us_per_frame_stat_ticks", NULL, NULL, 2, 0},
	[M_SYSCALL_US] = {"syscall_us", "getppid() ", " us", 2, 0},
	[M_CLOCK_US] = {"clock_gettime_us", "clock_gettime() ", " us", 2, 0},
	[M_W_LOST] = {"witness_lost", "direct witness lost ", "", 0, 0},
	[M_W_REORDER] = {"witness_reordered", "witness reordered ", "", 0, 0},
	[M_VS_CAND1] = {"per_client_vs_cand_1", "per client vs cand x1 ", "", 2,
			0},
	[M_CPU_RX] = {"cpu_us_per_frame_received", "cand ", " us/f received", 2,
		      0},
	[M_MARGINAL] = {"marginal_cpu_us_per_client_frame", "k-th client ",
			" us/f", 3, 0},
	[M_MARGINAL_RATIO] = {"marginal_vs_first_client", "k-th/first ", "", 3,
			      0},
	[M_VS_RELAY] = {"p50_ratio_to_relay", "p50 vs relay ", "", 2, 0},
	[M_P99_VS_RELAY] = {"p99_ratio_to_relay", "p99 vs relay ", "", 2, 0},
};

static struct row rows[MAX_ROWS];
static int n_rows;

static struct row *row_find(const char *id)
{
	int i;

	for (i = 0; i < n_rows; i++)
		if (strcmp(rows[i].id, id) == 0)
			return &rows[i];
	return NULL;
}

void report_row(const char *id, const char *label, const char *note)
{
	struct row *r = row_find(id);
	unsigned i, m;

	if (r != NULL)
		return;
	if (n_rows == MAX_ROWS) {
		fprintf(stderr, "bench_can: too many rows\n");
		return;
	}
	r = &rows[n_rows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->label, sizeof(r->label), "%s", label);
	snprintf(r->note, sizeof(r->note), "%s", note ? note : "");
	for (i = 0; i < BENCH_MAX_REPEAT; i++)
		for (m = 0; m < M_COUNT; m++)
			r->v[i][m] = NAN;
}

void report_set(const char *id, enum metric m, double v, unsigned rep)
{
	struct row *r = row_find(id);

	if (r == NULL) {
		report_row(id, id, NULL);
		r = row_find(id);
	}
	if (r == NULL || rep >= BENCH_MAX_REPEAT || m >= M_COUNT)
		return;
	r->v[rep][m] = v;
	if (r->nrep < rep + 1)
		r->nrep = rep + 1;
}

void report_problem(const char *id, const char *fmt, ...)
{
	struct row *r = row_find(id);
	char buf[160];
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "bench_can: %s: %s\n", id, buf);
	if (r == NULL || strstr(r->problems, buf) != NULL)
		return;
	len = strlen(r->problems);
	snprintf(r->problems + len, sizeof(r->problems) - len, "%s%s",
		 len ? "; " : "", buf);
}

static double row_median(const struct row *r, enum metric m)
{
	double v[BENCH_MAX_REPEAT];
	unsigned i, n = 0;

	for (i = 0; i < r->nrep; i++)
		if (!isnan(r->v[i][m]))
			v[n++] = r->v[i][m];
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double report_median(const char *id, enum metric m)
{
	const struct row *r = row_find(id);

	return r != NULL ? row_median(r, m) : NAN;
}

double report_get(const char *id, enum metric m, unsigned rep)
{
	const struct row *r = row_find(id);

	if (r == NULL || rep >= BENCH_MAX_REPEAT)
		return NAN;
	return r->v[rep][m];
}

static void cell(FILE *f, double v, int width, int prec)
{
	if (isnan(v))
		fprintf(f, " %*s", width, "-");
	else
		fprintf(f, " %*.*f", width, prec, v);
}

/* The row's fixed note, then every other figure it has, then problems. */
static void row_note(const struct row *r, char *buf, size_t size)
{
	size_t len;
	double v;
	int m;

	snprintf(buf, size, "%s", r->note);
	for (m = M_LOST_MAX; m < M_COUNT; m++) {
		if (minfo[m].pre == NULL)
			continue;
		v = row_median(r, (enum metric)m);
		if (isnan(v) || (minfo[m].hide_zero && v == 0))
			continue;
		len = strlen(buf);
		snprintf(buf + len, size - len, "%s%s%.*f%s", len ? ", " : "",
			 minfo[m].pre, minfo[m].prec, v, minfo[m].post);
	}
	if (r->problems[0] != '\0') {
		len = strlen(buf);
		snprintf(buf + len, size - len, "%s!! %s", len ? "; " : "",
			 r->problems);
	}
}

void report_print(FILE *f)
{
	char note[768];
	int i;

	fprintf(f, "%-38s %10s %9s %8s %8s %9s %6s  %s\n", "scenario",
		"frames/s", "lost", "p50 us", "p99 us", "CPU us/f", "ratio",
		"note");
	for (i = 0; i < n_rows; i++) {
		const struct row *r = &rows[i];

		fprintf(f, "%-38s", r->label);
		cell(f, row_median(r, M_FPS), 10, 0);
		cell(f, row_median(r, M_LOST), 9, 0);
		cell(f, row_median(r, M_P50), 8, 1);
		cell(f, row_median(r, M_P99), 8, 1);
		cell(f, row_median(r, M_CPU), 9, 2);
		cell(f, row_median(r, M_RATIO), 6, 2);
		row_note(r, note, sizeof(note));
		fprintf(f, "  %s\n", note);
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.6g", v);
}

static void json_values(FILE *f, const struct row *r, int rep)
{
	int m, first = 1;
	double v;

	fputc('{', f);
	for (m = 0; m < M_COUNT; m++) {
		v = rep < 0 ? row_median(r, (enum metric)m) : r->v[rep][m];
		if (isnan(v))
			continue;
		fprintf(f, "%s\"%s\": ", first ? "" : ", ", minfo[m].json);
		json_num(f, v);
		first = 0;
	}
	fputc('}', f);
}

int report_json(const struct bench *b, const char *path)
{
	struct utsname u;
	char date[32], note[768];
	time_t now = time(NULL);
	FILE *f;
	int i;
	unsigned rep;

	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "?");
	fprintf(f, "{\n  \"bench\": \"bench_can\",\n  \"date\": ");
	json_str(f, date);
	fprintf(f, ",\n  \"kernel\": ");
	json_str(f, u.release);
	fprintf(f, ",\n  \"cpus\": %ld,\n  \"in_vm\": %s,\n  \"iface\": ",
		sysconf(_SC_NPROCESSORS_ONLN),
		getenv("CAND_IN_VM") ? "true" : "false");
	json_str(f, b->ifname);
	fprintf(f,
		",\n  \"repeat\": %u,\n  \"flood_frames\": %u,\n  "
		"\"flood_max_seconds\": %u,\n"
		"  \"bus_seconds\": %u,\n  \"pace_quantum_us\": %u,\n"
		"  \"latency_probes\": %u,\n"
		"  \"scale_clients\": %u,\n  \"rcvbuf_asked\": %d,\n"
		"  \"statistic\": \"median over repetitions\",\n"
		"  \"rows\": [\n",
		b->repeat, b->flood_n, b->flood_secs, b->bus_secs,
		b->quantum_us, b->lat_probes, b->scale_clients, BENCH_RCVBUF);
	for (i = 0; i < n_rows; i++) {
		const struct row *r = &rows[i];

		fprintf(f, "    {\"id\": ");
		json_str(f, r->id);
		fprintf(f, ", \"scenario\": ");
		json_str(f, r->label);
		row_note(r, note, sizeof(note));
		fprintf(f, ", \"note\": ");
		json_str(f, note);
		fprintf(f, ",\n     \"median\": ");
		json_values(f, r, -1);
		fprintf(f, ",\n     \"runs\": [");
		for (rep = 0; rep < r->nrep; rep++) {
			if (rep)
				fputs(", ", f);
			json_values(f, r, (int)rep);
		}
		fprintf(f, "]}%s\n", i + 1 < n_rows ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	return fclose(f) == 0 ? 0 : -1;
}
