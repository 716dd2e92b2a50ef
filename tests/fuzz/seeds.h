/*
 * What seeds.c (requests, frames) and seeds_server.c (what a daemon
 * sends) share: the seed being written and its messages, framed.
 */
#ifndef CAND_FUZZ_SEEDS_H
#define CAND_FUZZ_SEEDS_H

#include <stddef.h>
#include <stdint.h>

#include "cand.pb-c.h"

#define SEEDS_MAX (64 * 1024)

struct seeds_out {
	const char *dir;
	uint8_t buf[SEEDS_MAX];
	size_t len;
	uint32_t next_id; /* of the requests in this seed */
};

void seeds_raw(struct seeds_out *o, const void *p, size_t n);
/* One message with its length, as both sides write them. */
void seeds_msg(struct seeds_out *o, const ProtobufCMessage *m);
/* Writes DIR/target/seed-name and starts the next seed. */
void seeds_write(const char *target, const char *name, struct seeds_out *o);
/* n frames on ifname: classic, then FD with BRS, remote, error. */
void seeds_frames(Cand__Frame *f, Cand__Frame **fp, size_t n,
		  const char *ifname);

/* seeds_server.c: the reader target's seeds. */
void seeds_server_all(struct seeds_out *o);

#endif
