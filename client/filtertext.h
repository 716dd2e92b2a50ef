/*
 * candump's filter syntax, as canctl dump takes it: "id:mask" passes a
 * frame when its id matches under the mask, "id~mask" when it does not.
 * Both are raw SocketCAN values in hex, as candump takes them.
 */
#ifndef CAND_FILTERTEXT_H
#define CAND_FILTERTEXT_H

#include <stdint.h>

#include "cand.h"

/*
 * Parses one filter: an 8-digit id is an extended one, and only a mask
 * holding CAN_EFF_FLAG (80000000) makes the frame format matter. Returns
 * 0, or CAND_EINVAL with *why (if why is not NULL) pointing at a static
 * explanation.
 */
int filtertext_parse(const char *s, struct cand_filter *f, const char **why);

/* A non-empty run of at most 8 hex digits ending at end; 0 or -1. */
int filtertext_hex32(const char *s, const char *end, uint32_t *out);

#endif
