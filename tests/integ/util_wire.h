/* util_wire.c: a client that speaks the wire protocol by hand. */
#ifndef CAND_INTEG_UTIL_WIRE_H
#define CAND_INTEG_UTIL_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cand.pb-c.h"

/* Connects to $CAND_SOCKET; fails the test on error. */
int util_wire_connect(void);
/* Writes what it can, the bytes written; the daemon may close halfway. */
ssize_t util_wire_write(int fd, const void *buf, size_t len);
/* A length field of len, then body_len bytes of body (len may lie). */
void util_wire_send_raw(int fd, uint32_t len, const void *body,
			size_t body_len);
/* One length-prefixed Request. */
void util_wire_send_req(int fd, const Cand__Request *req);
/* The next ServerMsg, or NULL when the daemon closed the connection. */
Cand__ServerMsg *util_wire_read_msg(int fd);
/* The next Reply, skipping events. NULL if the connection closed. */
Cand__ServerMsg *util_wire_read_reply(int fd);

#endif
