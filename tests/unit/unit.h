/* Each unit test file contributes one Check suite, run by main.c. */
#ifndef CAND_UNIT_H
#define CAND_UNIT_H

#include <check.h>

#include "pb/pb.h"

Suite *frametext_suite(void);
Suite *candump_suite(void);
Suite *framelen_suite(void);
Suite *ahead_suite(void);
Suite *proto_suite(void);
Suite *status_suite(void);
Suite *bcm_suite(void);
Suite *health_suite(void);
Suite *policy_suite(void);
Suite *read_suite(void);
Suite *sc_suite(void);	 /* test_sc.c: socketcand's text */
Suite *peer_suite(void); /* test_peer.c: network peers and their rules */
Suite *shared_suite(void);
Suite *filtertext_suite(void);
Suite *resume_suite(void);
Suite *sendreq_suite(void); /* test_sendreq.c: a send's packed records */

/* harness.c: one client of a daemon context, fed requests directly. */
struct harness {
	struct cand_ctx ctx;
	int peer; /* the client's end */
	struct conn *c;
};
void harness_init(struct harness *h);
void harness_free(struct harness *h);
/* Feeds one request body and returns the single reply it produced. */
Cand__ServerMsg *harness_roundtrip(struct harness *h, const void *body,
				   size_t len);
Cand__ServerMsg *harness_request(struct harness *h, Cand__Request *req);

/*
 * srvmsg.c: what the daemon sends, framed, for libcand's reader
 * (test_read.c, test_resume.c) to be fed.
 */
struct cand;
struct srvmsg_out {
	uint8_t buf[64 * 1024];
	size_t len;
};
void srvmsg_put(struct srvmsg_out *o, const Cand__ServerMsg *m);
void srvmsg_event(struct srvmsg_out *o, Cand__Event *ev);
/* A Reply: status, and a created id unless 0. */
void srvmsg_reply(struct srvmsg_out *o, uint32_t id, Cand__Status status,
		  uint32_t created, const char *detail);
/*
 * A batch of three frames: a classic one on vcan0, an extended remote
 * request on vcan1 and an FD one with BRS on vcan0, timestamps 1, 2 and
 * 3 s; format and count as given, to be made wrong.
 */
void srvmsg_batch(struct srvmsg_out *o, uint32_t format, uint32_t count,
		  uint64_t kernel_drops);
/* Pops srvmsg_batch()'s three frames off h's queue and checks them. */
void srvmsg_check_batch(struct cand *h);

#endif
