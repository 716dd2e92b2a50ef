/*
 * canctl sniff's table: a slot per CAN id, sorted, with the bits that
 * changed lately (marked for the hold time, unless notched) and the ids
 * that went quiet (gone after the timeout), and cansniffer's filters and
 * sniffset files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canctl.h"
#include "canctl_sniff.h"
#include "filtertext.h"

#define CANCTL_SNIFFTAB_EFF 0x80000000u

/* cansniffer's sniffset.NAME record: "<%08X>%c." and 16 hex digits. */
#define CANCTL_SNIFFTAB_REC 29

uint64_t canctl_snifftab_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The slot of key, or where it would go (*found 0). */
static int canctl_snifftab_find(const struct canctl_sniff *s, uint32_t key,
				int *found)
{
	int lo = 0, hi = s->n_slots, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (s->slots[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < s->n_slots && s->slots[lo].key == key;
	return lo;
}

static struct canctl_sniff_slot *canctl_snifftab_add(struct canctl_sniff *s,
						     uint32_t key)
{
	struct canctl_sniff_slot *v;
	int pos, found;

	pos = canctl_snifftab_find(s, key, &found);
	if (found)
		return &s->slots[pos];
	if (s->n_slots == CANCTL_SNIFF_MAX_SLOTS)
		return NULL;
	if (s->slots == NULL) {
		v = calloc(CANCTL_SNIFF_MAX_SLOTS, sizeof(*v));
		if (v == NULL)
			return NULL;
		s->slots = v;
	}
	memmove(&s->slots[pos + 1], &s->slots[pos],
		(size_t)(s->n_slots - pos) * sizeof(s->slots[0]));
	s->n_slots++;
	v = &s->slots[pos];
	memset(v, 0, sizeof(*v));
	v->key = key;
	if ((key & CANCTL_SNIFFTAB_EFF) ? s->enable_eff : s->enable_sff)
		v->flags = CANCTL_SNIFF_ENABLE;
	/* A new line: the lines below it move down. */
	s->clear = 1;
	return v;
}

int canctl_snifftab_frame(struct canctl_sniff *s, const struct cand_frame *f,
			  uint64_t now_ms)
{
	struct canctl_sniff_slot *v;
	uint8_t data[8] = {0};
	unsigned i, len;
	int changed;

	if (f->flags & (CAND_FRAME_FD | CAND_FRAME_ERROR))
		return 0;
	if ((v = canctl_snifftab_add(s,
				     f->id | ((f->flags & CAND_FRAME_EXTENDED)
						      ? CANCTL_SNIFFTAB_EFF
						      : 0))) == NULL)
		return -1;
	if ((f->flags & CAND_FRAME_EXTENDED) && !s->eff_seen) {
		s->eff_seen = 1; /* wider ids: a new layout */
		s->clear = 1;
	}
	len = f->len > 8 ? 8 : f->len;
	if (!(f->flags & CAND_FRAME_REMOTE))
		memcpy(data, f->data, len);
	changed = v->stamp_ns == 0 || len != v->len ||
		  memcmp(data, v->data, sizeof(data)) != 0;
	v->prev_ns = v->stamp_ns;
	v->stamp_ns = f->timestamp_ns;
	v->seen_ms = now_ms;
	if (changed && v->prev_ns != 0) {
		for (i = 0; i < 8; i++)
			v->marker[i] |= (uint8_t)(data[i] ^ v->data[i]);
		v->changed_ms = now_ms;
	}
	if (changed) {
		v->last_len = v->len;
		v->len = (uint8_t)len;
		memcpy(v->data, data, sizeof(data));
	}
	if (!(v->flags & CANCTL_SNIFF_DISPLAY))
		s->clear = 1;
	v->flags |= CANCTL_SNIFF_DISPLAY | CANCTL_SNIFF_UPDATE;
	return 0;
}

void canctl_snifftab_expire(struct canctl_sniff *s, uint64_t now_ms)
{
	struct canctl_sniff_slot *v;
	int i, j;

	for (i = 0; i < s->n_slots; i++) {
		v = &s->slots[i];
		for (j = 0; s->notch && j < 8; j++) {
			v->notch[j] |= v->marker[j];
			v->flags |= CANCTL_SNIFF_UPDATE;
		}
		if (now_ms - v->changed_ms >= s->hold_ms &&
		    memcmp(v->marker, "\0\0\0\0\0\0\0\0", 8) != 0) {
			memset(v->marker, 0, sizeof(v->marker));
			v->flags |= CANCTL_SNIFF_UPDATE;
		}
		if (s->timeout_ms > 0 && (v->flags & CANCTL_SNIFF_DISPLAY) &&
		    now_ms - v->seen_ms >= s->timeout_ms) {
			v->flags &=
				~(CANCTL_SNIFF_DISPLAY | CANCTL_SNIFF_UPDATE);
			s->clear = 1; /* a line gone: the ones below move up */
		}
	}
	s->notch = 0;
}

/* cansniffer's rule: (id & mask) == (value & mask) switches it. */
static void canctl_snifftab_switch(struct canctl_sniff *s, uint32_t value,
				   uint32_t mask, int eff, int on)
{
	struct canctl_sniff_slot *v;
	int i;

	for (i = 0; i < s->n_slots; i++) {
		v = &s->slots[i];
		if (((v->key & CANCTL_SNIFFTAB_EFF) != 0) != eff ||
		    ((v->key & ~CANCTL_SNIFFTAB_EFF) & mask) != (value & mask))
			continue;
		if (on)
			v->flags |= CANCTL_SNIFF_ENABLE;
		else
			v->flags &= ~CANCTL_SNIFF_ENABLE;
	}
	/* Every id of the format: those to come too. */
	if (mask == 0) {
		if (eff)
			s->enable_eff = on;
		else
			s->enable_sff = on;
	}
	s->clear = 1;
}

int canctl_snifftab_filter(struct canctl_sniff *s, const char *cmd)
{
	const char *hex = cmd + 1;
	size_t n = strlen(hex);
	uint32_t value, mask;
	int eff = n == 8 || n == 16;

	if ((cmd[0] != '+' && cmd[0] != '-') ||
	    (n != 3 && n != 6 && n != 8 && n != 16))
		return -1;
	if (filtertext_hex32(hex, hex + (eff ? 8 : 3), &value) < 0)
		return -1;
	mask = eff ? 0x1fffffffu : 0x7ffu;
	if ((n == 6 || n == 16) &&
	    filtertext_hex32(hex + n / 2, hex + n, &mask) < 0)
		return -1;
	canctl_snifftab_switch(s, value, mask, eff, cmd[0] == '+');
	return 0;
}

void canctl_snifftab_all(struct canctl_sniff *s, int eff, int on)
{
	canctl_snifftab_switch(s, 0, 0, eff, on);
}

void canctl_snifftab_notch(struct canctl_sniff *s, int clear)
{
	int i;

	if (!clear) {
		s->notch = 1; /* at the next refresh, as cansniffer */
		return;
	}
	for (i = 0; i < s->n_slots; i++) {
		memset(s->slots[i].notch, 0, sizeof(s->slots[i].notch));
		s->slots[i].flags |= CANCTL_SNIFF_UPDATE;
	}
}

/* sniffset.NAME in path; -1 when the name is empty or has a '/'. */
static int canctl_snifftab_path(const char *name, char *path, size_t size)
{
	if (name[0] == '\0' || strchr(name, '/') != NULL ||
	    strlen(name) + sizeof("sniffset.") > size) {
		errno = EINVAL;
		return -1;
	}
	snprintf(path, size, "sniffset.%s", name);
	return 0;
}

int canctl_snifftab_write(const struct canctl_sniff *s, const char *name)
{
	char path[256];
	FILE *f;
	int i, j;

	if (canctl_snifftab_path(name, path, sizeof(path)) < 0 ||
	    (f = fopen(path, "w")) == NULL)
		return -1;
	for (i = 0; i < s->n_slots; i++) {
		fprintf(f, "<%08X>%c.", s->slots[i].key,
			(s->slots[i].flags & CANCTL_SNIFF_ENABLE) ? '1' : '0');
		for (j = 0; j < 8; j++)
			fprintf(f, "%02X", s->slots[i].notch[j]);
		fputc('\n', f);
	}
	return fclose(f) == EOF ? -1 : 0;
}

/* One record into a slot; -1 when it is not one. */
static int canctl_snifftab_record(struct canctl_sniff *s, const char *rec)
{
	struct canctl_sniff_slot *v;
	uint32_t key, byte;
	int j;

	if (rec[0] != '<' || rec[9] != '>' ||
	    (rec[10] != '0' && rec[10] != '1') || rec[11] != '.' ||
	    rec[28] != '\n' || filtertext_hex32(rec + 1, rec + 9, &key) < 0)
		return -1;
	if ((key & ~CANCTL_SNIFFTAB_EFF) >
	    ((key & CANCTL_SNIFFTAB_EFF) ? 0x1fffffffu : 0x7ffu))
		return -1;
	if ((v = canctl_snifftab_add(s, key)) == NULL)
		return -1;
	v->flags = rec[10] == '1' ? v->flags | CANCTL_SNIFF_ENABLE
				  : v->flags & ~CANCTL_SNIFF_ENABLE;
	for (j = 0; j < 8; j++) {
		if (filtertext_hex32(rec + 12 + 2 * j, rec + 14 + 2 * j,
				     &byte) < 0)
			return -1;
		v->notch[j] = (uint8_t)byte;
	}
	return 0;
}

int canctl_snifftab_read(struct canctl_sniff *s, const char *name)
{
	char path[256], rec[CANCTL_SNIFFTAB_REC + 1];
	FILE *f;
	int rc = 0;

	if (canctl_snifftab_path(name, path, sizeof(path)) < 0 ||
	    (f = fopen(path, "r")) == NULL)
		return -1;
	while (fread(rec, 1, CANCTL_SNIFFTAB_REC, f) == CANCTL_SNIFFTAB_REC) {
		rec[CANCTL_SNIFFTAB_REC] = '\0';
		if (canctl_snifftab_record(s, rec) < 0) {
			errno = EINVAL; /* not one of cansniffer's */
			rc = -1;
			break;
		}
	}
	fclose(f);
	s->clear = 1;
	return rc;
}

void canctl_snifftab_free(struct canctl_sniff *s)
{
	free(s->slots);
	s->slots = NULL;
	s->n_slots = 0;
}
