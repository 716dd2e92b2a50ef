/*
 * Framing shared by the daemon and libcand: every message is a 4-byte
 * big-endian length, then that many bytes of protobuf (proto/cand.proto).
 */
#ifndef CAND_WIRE_H
#define CAND_WIRE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Where the daemon listens unless told otherwise. client/cand.h, which is
 * installed alone, repeats the literal; a file that includes both (the
 * unit tests do) would not compile if they ever differed.
 */
#define CAND_DEFAULT_SOCKET "/run/cand.sock"

#define CAND_PROTO_VERSION 1
#define CAND_WIRE_HDR	   4
/* Largest message either side accepts; the config may only lower it. */
#define CAND_MAX_MSG (1u << 20)

static inline void wire_put_len(uint8_t *p, uint32_t len)
{
	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
}

static inline uint32_t wire_get_len(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

#endif
