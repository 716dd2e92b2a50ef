/* fuzz_sc's check of socketcand's command parser (sccheck.c). */
#ifndef CAND_FUZZ_SCCHECK_H
#define CAND_FUZZ_SCCHECK_H

#include <stddef.h>

#include "sc/sc.h"

/*
 * sc_parse_cmd() on one element, and what it promises: a refusal is
 * -EINVAL with a reason; a command is within every bound of struct
 * sc_cmd and parses back the same from its canonical text. Returns what
 * sc_parse_cmd() did.
 */
int sccheck_cmd(const char *el, size_t len, struct sc_cmd *cmd, char *detail,
		size_t dsize);

/*
 * The answers a connection owes for the bytes in, walked as sc/conn.c
 * walks them, each element through sccheck_cmd(): a letter per answer
 * into want (room for size + 2): 'h' hi, 'o' ok, 'e' error, 'c' echo,
 * '?' ok or error. *closes: it ends refused, as an open does on a host
 * without CAN.
 */
void sccheck_stream(const char *in, size_t size, char *want, int *closes);

#endif
