/*
 * Integration tests: libcand against a running cand and the real kernel
 * CAN stack, with can-utils and raw CAN_RAW sockets as independent
 * observers. Run by tests/integ/run-all.sh inside the VM, as root.
 * CK_RUN_SUITE / CK_RUN_CASE select a part, as with any Check program.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

int main(void)
{
	SRunner *sr;
	int failed;

	if (getenv("CAND_SOCKET") == NULL || getenv("CAND_PID") == NULL) {
		fprintf(stderr, "test_integ: run me through "
				"tests/integ/run-all.sh (CAND_SOCKET, "
				"CAND_PID and CAND_LOG must be set)\n");
		return 2;
	}
	/* Tests write to sockets the daemon may close on them. */
	signal(SIGPIPE, SIG_IGN);

	sr = srunner_create(relay_suite());
	srunner_add_suite(sr, filter_suite());
	srunner_add_suite(sr, loopback_suite());
	srunner_add_suite(sr, channel_suite());
	srunner_add_suite(sr, badinput_suite());
	srunner_add_suite(sr, lifecycle_suite());
	srunner_add_suite(sr, bcm_suite());
	srunner_add_suite(sr, health_suite());
	srunner_add_suite(sr, policy_suite());
	srunner_add_suite(sr, reload_suite());
	srunner_add_suite(sr, limits_suite());
	srunner_add_suite(sr, policy_tasks_suite());
	srunner_add_suite(sr, reload_bcm_suite());
	srunner_add_suite(sr, sc_proto_suite());
	srunner_add_suite(sr, sc_bcm_suite());
	srunner_add_suite(sr, sc_access_suite());
	srunner_add_suite(sr, sc_flow_suite());
	srunner_add_suite(sr, sc_clients_suite());
	srunner_add_suite(sr, shared_suite());
	srunner_add_suite(sr, sharedlink_suite());
	srunner_add_suite(sr, sharedmany_suite());
	srunner_add_suite(sr, restgone_suite());
	srunner_add_suite(sr, echo_suite());
	srunner_add_suite(sr, faults_suite());
	srunner_add_suite(sr, restart_suite());
	srunner_add_suite(sr, budget_suite());
	srunner_add_suite(sr, sc_budget_suite());
	srunner_add_suite(sr, sendbatch_suite());
	srunner_add_suite(sr, sendform_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
