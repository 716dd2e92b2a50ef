/*
 * can-utils text formats for struct cand_frame: the cansend syntax, the
 * candump default line and the candump -L log line (which canplayer
 * replays). Output matches can-utils byte for byte so scripts written
 * against candump keep working on canctl dump.
 */
#ifndef CAND_FRAMETEXT_H
#define CAND_FRAMETEXT_H

#include <stddef.h>
#include <stdint.h>

#include "cand.h"

/* Room for the longest line any format produces, with the NUL. */
#define FRAMETEXT_MAX 384

/* candump's options for its lines. */
#define FRAMETEXT_ASCII 0x01u /* -a: the data as ASCII too */
#define FRAMETEXT_EXTRA 0x02u /* -x: RX or TX, and the FD flags */
/* Standard ids indented as if an extended one had gone by. */
#define FRAMETEXT_INDENT 0x04u

/* The interfaces whose colours candump -c remembers. */
#define FRAMETEXT_COLOR_IFS 30

/*
 * candump's display state: interface names are right-aligned to the longest
 * one seen so far, and once an extended frame went by, standard ids are
 * indented so the columns line up. Each interface keeps the colour of the
 * order in which it first showed up.
 */
struct frametext_view {
	int ifwidth;
	int indent_sff;
	unsigned flags; /* FRAMETEXT_ASCII, FRAMETEXT_EXTRA */
	int color;	/* how many -c: 0 none, 1 the name, 2 the line, 3 all */
	int stamp;	/* a timetext.h mode letter, or 0 */
	uint64_t stamp_ref_us;
	char seen[FRAMETEXT_COLOR_IFS][CAND_IFNAMSIZ];
	int n_seen;
};

/*
 * Parses cansend syntax: <id>#{data}, <id>#R{len}, <id>##<flags>{data}.
 * A 3-digit id is standard, an 8-digit one extended, or an error frame when
 * CAN_ERR_FLAG (0x20000000) is set. Returns 0, or CAND_EINVAL with *why (if
 * why is not NULL) pointing at a static explanation.
 */
int frametext_parse(const char *s, struct cand_frame *f, const char **why);

/*
 * Parses a whole candump -L line, "(1436509052.249713) vcan0 123#DEADBEEF",
 * filling in timestamp_ns and ifname too. Words after the frame (candump
 * -x adds some) are ignored, as canplayer does.
 */
int frametext_parse_log(const char *line, struct cand_frame *f,
			const char **why);

/* Whether len is a length an FD frame can have on the bus. */
int frametext_fd_len_valid(unsigned len);

/*
 * Starts a view for names up to width long, as candump does with the
 * interfaces named on its command line ("any" counts as 3); no options.
 */
void frametext_view_init(struct frametext_view *v, int width);

/*
 * The compact cansend/log form of the frame alone ("123#DEADBEEF"). Like
 * snprintf: returns the length the full text needs.
 */
int frametext_format_frame(char *buf, size_t size, const struct cand_frame *f);

/* The same with a '.' between the data bytes, as cangen -v prints it. */
int frametext_format_dotted(char *buf, size_t size, const struct cand_frame *f);

/*
 * The frame alone as candump shows it ("123   [4]  DE AD BE EF"), with
 * FRAMETEXT_ASCII and FRAMETEXT_INDENT from flags.
 */
int frametext_format_long(char *buf, size_t size, const struct cand_frame *f,
			  unsigned flags);

/*
 * One candump line without the newline, with v's colours, timestamp and
 * options: "  vcan0  123   [4]  DE AD BE EF". Updates v.
 */
int frametext_format_candump(char *buf, size_t size, const struct cand_frame *f,
			     struct frametext_view *v);

/*
 * One candump -L line without the newline:
 * "(1436509052.249713) vcan0 123#DEADBEEF", and " T" or " R" after it
 * with FRAMETEXT_EXTRA. v may be NULL for no padding and no options.
 */
int frametext_format_log(char *buf, size_t size, const struct cand_frame *f,
			 struct frametext_view *v);

#endif
