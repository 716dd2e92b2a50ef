/* The tests of badinput_wire.c and badinput_requests.c, for badinput.c. */
#ifndef CAND_INTEG_BADINPUT_H
#define CAND_INTEG_BADINPUT_H

#include <check.h>

void badinput_wire_tests(TCase *tc);
void badinput_requests_tests(TCase *tc);

#endif
