/*
 * Periodic tasks and content monitors (the kernel's CAN_BCM) through
 * libcand: python-can's cyclic-send behaviours, ownership and lifetime, and
 * monitoring of changes, silence, throttling, multiplexed frames and RTR.
 *
 * Observers are independent of the task's owner: a second client, raw
 * CAN_RAW sockets and candump -L. Timing is judged by kernel timestamps
 * (the frames' SO_TIMESTAMPNS, candump's), never by when the test process
 * got to run, and the bounds are the loose ones python-can uses: the VM
 * emulates its CPUs and shares two host CPUs with other work.
 *
 * The tests are in bcm_periodic.c, bcm_lifecycle.c, bcm_ownership.c and
 * bcm_monitor.c; bcm.h and bcm_timing.h hold what they share.
 */
#include "bcm.h"

/*
 * The test cases are made here and filled by the files, so that
 * CK_RUN_SUITE=bcm and CK_RUN_CASE select what they always did.
 */
Suite *bcm_suite(void)
{
	Suite *s = suite_create("bcm");
	TCase *tc = util_tcase("periodic");
	TCase *tl = util_tcase("ownership");
	TCase *tm = util_tcase("monitor");

	bcm_periodic_tests(tc);
	bcm_lifecycle_tests(tc);
	suite_add_tcase(s, tc);
	bcm_ownership_tests(tl);
	suite_add_tcase(s, tl);
	bcm_monitor_tests(tm);
	suite_add_tcase(s, tm);
	return s;
}
