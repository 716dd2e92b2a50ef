/* Each unit test file contributes one Check suite, run by main.c. */
#ifndef CAND_UNIT_H
#define CAND_UNIT_H

#include <check.h>

Suite *frametext_suite(void);
Suite *proto_suite(void);
Suite *status_suite(void);
Suite *bcm_suite(void);
Suite *health_suite(void);
Suite *policy_suite(void);

#endif
