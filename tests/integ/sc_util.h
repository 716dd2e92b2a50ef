/*
 * The socketcand tests' raw TCP client: connect (from a chosen loopback
 * address, which is how the tests are different peers), write commands,
 * read elements. The main run's daemon serves socketcand on SC_PORT
 * (conf/socketcand.conf); every helper fails the current Check test itself.
 */
#ifndef CAND_INTEG_SC_UTIL_H
#define CAND_INTEG_SC_UTIL_H

#include <stddef.h>

#include "util.h"

#define SC_PORT 29536
/* conf/socketcand.conf's peers: admitted, never named, limited to ids 100-1FF.
 */
#define SC_PEER	     "127.0.0.1"
#define SC_STRANGER  "127.0.0.2"
#define SC_LIMITED   "127.0.0.3"
#define SC_CROWD     "127.0.0.4"
#define SC_PER_PEER  8 /* max_connections_per_peer there */
#define SC_BEACON_MS 500

struct sc_peer {
	int fd;
	size_t len;
	char buf[65536];
};

/* Connects from src (NULL: any) to dst:port; NULL if refused. */
struct sc_peer *sc_try_connect(const char *src, const char *dst, int port);
/* The same with SO_RCVBUF set first (0: the default). */
struct sc_peer *sc_try_connect_buf(const char *src, const char *dst, int port,
				   int rcvbuf);
/* The same to the main run's daemon, failing the test if refused. */
struct sc_peer *sc_connect(const char *src);
void sc_close(struct sc_peer *p);
/* Writes all of s. */
void sc_write(struct sc_peer *p, const char *s);
/*
 * The next element (NUL-terminated in out): 1, 0 after timeout_ms, -1 at
 * EOF. Bytes outside elements fail the test.
 */
int sc_next(struct sc_peer *p, char *out, size_t size, int timeout_ms);
/* The next element is exactly want. */
void sc_expect(struct sc_peer *p, const char *want, const char *what);
/* The next element starts with prefix; it is left in out. */
void sc_expect_prefix(struct sc_peer *p, const char *prefix, char *out,
		      size_t size, const char *what);
/* No element within ms. */
void sc_expect_none(struct sc_peer *p, int ms, const char *what);
/* The connection ends (EOF) within RX_TIMEOUT_MS. */
void sc_expect_eof(struct sc_peer *p, const char *what);
/*
 * Connected from src, hi read, bus open and mode (NULL: BCM) switched,
 * then an echo answered: everything before it has been done.
 */
struct sc_peer *sc_open_bus(const char *src, const char *bus, const char *mode);
/*
 * The next element is head, a timestamp SEC.USEC within 10 s of now, and
 * tail: "< frame 123 " and " 1122 >" for "< frame 123 1.000000 1122 >".
 */
void sc_expect_frame(struct sc_peer *p, const char *head, const char *tail,
		     const char *what);
/* "< echo >" round trip: the daemon has handled what came before. */
void sc_sync(struct sc_peer *p);
/* The bytes one read() returns within timeout_ms, NUL-terminated. */
size_t sc_read_raw(struct sc_peer *p, char *out, size_t size, int timeout_ms);

#endif
