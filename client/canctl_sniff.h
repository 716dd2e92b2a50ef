/*
 * canctl sniff's parts: the table of ids (canctl_snifftab.c), the screen
 * or plain lines it is shown as (canctl_sniffdraw.c), and the command
 * with its keys and loop (canctl_sniff.c).
 */
#ifndef CAND_CANCTL_SNIFF_H
#define CAND_CANCTL_SNIFF_H

#include <stdint.h>

#include "cand.h"

#define CANCTL_SNIFF_MAX_SLOTS 2048 /* as cansniffer */

/* A slot's state, as cansniffer's. */
#define CANCTL_SNIFF_ENABLE  0x1u /* shown when it has frames */
#define CANCTL_SNIFF_DISPLAY 0x2u /* has frames, not timed out */
#define CANCTL_SNIFF_UPDATE  0x4u /* a frame since it was drawn */

/* One CAN id: its last frame, the bits that changed, and when. */
struct canctl_sniff_slot {
	uint32_t key; /* the id, with bit 31 for an extended one */
	unsigned flags;
	uint8_t len, last_len;
	uint8_t data[8], last[8];
	uint8_t marker[8];	    /* bits that changed within the hold time */
	uint8_t notch[8];	    /* bits whose changes are not marked */
	uint64_t stamp_ns, prev_ns; /* its last two frames' kernel times */
	uint64_t changed_ms, seen_ms;
};

struct canctl_sniff {
	const char *iface;
	struct canctl_sniff_slot *slots; /* sorted by key */
	int n_slots;
	/* Options and modes; the times in ms. */
	unsigned loop_ms, hold_ms, timeout_ms;
	int binary, binary8, binary_gap, color, fix_eff, tty;
	int enable_sff, enable_eff; /* for new ids */
	/* Screen state. */
	int eff_seen, clear, notch, rows, cols;
	int plain_header; /* plain lines: 1 + eff_seen of the header shown */
	unsigned counter;
};

/* canctl_snifftab.c */
uint64_t canctl_snifftab_now_ms(void);
/* A received frame into the table; -1 when the table is full. */
int canctl_snifftab_frame(struct canctl_sniff *s, const struct cand_frame *f,
			  uint64_t now_ms);
/* Markers past their hold, ids past their timeout; once per refresh. */
void canctl_snifftab_expire(struct canctl_sniff *s, uint64_t now_ms);
/* "+1F5", "-42E7FF", "+12345678000000FF": 0, or -1 when malformed. */
int canctl_snifftab_filter(struct canctl_sniff *s, const char *cmd);
/* a, n, A, N: every SFF or EFF id on or off, and those to come. */
void canctl_snifftab_all(struct canctl_sniff *s, int eff, int on);
/* The notches: marked bits added (#), or all cleared (*). */
void canctl_snifftab_notch(struct canctl_sniff *s, int clear);
/* cansniffer's sniffset.NAME files; 0, or -1 with errno. */
int canctl_snifftab_write(const struct canctl_sniff *s, const char *name);
int canctl_snifftab_read(struct canctl_sniff *s, const char *name);
void canctl_snifftab_free(struct canctl_sniff *s);

/* canctl_sniffdraw.c: one refresh; -1 when stdout is gone. */
int canctl_sniffdraw_refresh(struct canctl_sniff *s, uint64_t now_ms);
/* Shows the cursor again and leaves the screen as it is. */
void canctl_sniffdraw_end(const struct canctl_sniff *s);

#endif
