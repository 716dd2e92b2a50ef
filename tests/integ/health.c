/*
 * Bus health: state, configuration, restart, flush, events, hot-plug and
 * the bus-off policy, against the real kernel.
 *
 * Real controllers: can0 and can1, the VM's two emulated SJA1000 on one
 * emulated bus. The emulation never produces bus errors (no missing ACK,
 * no error counters), so state changes are driven by real CAN error
 * frames written to a dedicated vcan, which exercises the error frame
 * state machine; for the controllers the tests check the kernel's own
 * state (ERROR-ACTIVE, STOPPED) and the restart refusals. Hot-plug uses
 * dedicated vcans too, so no other test sees them come and go.
 *
 * Every test that touches can0/can1 leaves them at 500000 bit/s,
 * sample point 0.875, restart-ms 100, up.
 *
 * The tests are in health_state.c, health_configure.c, health_events.c,
 * health_flush.c, health_drops.c and health_busoff.c; health.h holds what
 * they share, this file the fixtures and the test cases they fill.
 */
#include <stdio.h>
#include <stdlib.h>

#include "health.h"

/*
 * can0 and can1 as the VM sets them up; used before and after tests. Only
 * when they differ, so as not to send link events into the next test.
 */
static void restore_controllers(void)
{
	if (system("for d in can0 can1; do "
		   "s=$(ip -details link show $d); "
		   "case \"$s\" in *LISTEN-ONLY*) ;; *'state UP'*'restart-ms "
		   "100'*'bitrate 500000 sample-point 0.875'*) continue ;; "
		   "esac; "
		   "ip link set $d down; "
		   "ip link set $d type can bitrate 500000 sample-point 0.875 "
		   "restart-ms 100 listen-only off; ip link set $d up; "
		   "done 2>/dev/null") != 0)
		fprintf(stderr, "restoring can0/can1 failed\n");
}

static void restore_vcans(void)
{
	if (system("ip link del " HP_IFACE " 2>/dev/null; ip link del " EF_IFACE
		   " 2>/dev/null; ip link del " FL_IFACE
		   " 2>/dev/null; true") != 0)
		fprintf(stderr, "removing the test vcans failed\n");
}

Suite *health_suite(void)
{
	Suite *s = suite_create("health");
	TCase *tc = util_tcase("state");

	health_state_tests(tc);
	suite_add_tcase(s, tc);

	tc = util_tcase("configure");
	tcase_add_checked_fixture(tc, restore_controllers, NULL);
	tcase_add_unchecked_fixture(tc, NULL, restore_controllers);
	health_configure_tests(tc);
	suite_add_tcase(s, tc);

	tc = util_tcase("events");
	tcase_add_checked_fixture(tc, restore_vcans, NULL);
	tcase_add_unchecked_fixture(tc, NULL, restore_vcans);
	health_events_tests(tc);
	health_flush_tests(tc);
	suite_add_tcase(s, tc);

	tc = util_tcase("drops");
	tcase_set_timeout(tc, 120);
	health_drops_tests(tc);
	suite_add_tcase(s, tc);

	tc = util_tcase("policy");
	tcase_add_checked_fixture(tc, restore_controllers, NULL);
	tcase_add_unchecked_fixture(tc, NULL, restore_controllers);
	health_busoff_tests(tc);
	suite_add_tcase(s, tc);
	return s;
}
