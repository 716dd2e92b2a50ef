#include <stdlib.h>

#include "unit.h"

int main(void)
{
	SRunner *sr = srunner_create(frametext_suite());
	int failed;

	srunner_add_suite(sr, candump_suite());
	srunner_add_suite(sr, framelen_suite());
	srunner_add_suite(sr, ahead_suite());
	srunner_add_suite(sr, proto_suite());
	srunner_add_suite(sr, status_suite());
	srunner_add_suite(sr, bcm_suite());
	srunner_add_suite(sr, health_suite());
	srunner_add_suite(sr, policy_suite());
	srunner_add_suite(sr, read_suite());
	srunner_add_suite(sr, sc_suite());
	srunner_add_suite(sr, peer_suite());
	srunner_add_suite(sr, shared_suite());
	srunner_add_suite(sr, filtertext_suite());
	srunner_add_suite(sr, resume_suite());
	srunner_add_suite(sr, sendreq_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
