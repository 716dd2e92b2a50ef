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

#endif
