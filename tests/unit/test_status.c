/* Status codes: errno -> Status in the daemon, Status -> CAND_E* and text. */
#include <errno.h>
#include <string.h>

#include "cand.h"
#include "unit.h"

START_TEST(test_errno_mapping)
{
	static const struct {
		int err;
		Cand__Status status;
	} map[] = {
		{0, CAND__STATUS__OK},
		{-EINVAL, CAND__STATUS__INVALID_ARGUMENT},
		{-EBADMSG, CAND__STATUS__BAD_MESSAGE},
		{-ENODEV, CAND__STATUS__NO_SUCH_DEVICE},
		{-ENETDOWN, CAND__STATUS__NETWORK_DOWN},
		{-ENOBUFS, CAND__STATUS__TX_BUFFER_FULL},
		{-EAGAIN, CAND__STATUS__TX_BUFFER_FULL},
		{-ENOTCONN, CAND__STATUS__NOT_OPEN},
		{-EISCONN, CAND__STATUS__ALREADY_OPEN},
		{-EPERM, CAND__STATUS__PERMISSION_DENIED},
		{-EACCES, CAND__STATUS__PERMISSION_DENIED},
		{-EOPNOTSUPP, CAND__STATUS__UNSUPPORTED},
		{-EAFNOSUPPORT, CAND__STATUS__UNSUPPORTED},
		{-EUSERS, CAND__STATUS__LIMIT_EXCEEDED},
		{-E2BIG, CAND__STATUS__INVALID_ARGUMENT},
		{-EIO, CAND__STATUS__IO_ERROR},
		{-ENOMEM, CAND__STATUS__INTERNAL},
		{-ESHUTDOWN, CAND__STATUS__SHUTTING_DOWN},
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		ck_assert_msg(dispatch_status_from_errno(map[i].err) ==
				      map[i].status,
			      "errno %d", map[i].err);
}
END_TEST

/* libcand returns -Status, so the two enums must stay in step. */
START_TEST(test_library_codes_match_status)
{
	ck_assert_int_eq(CAND_EINVAL, -CAND__STATUS__INVALID_ARGUMENT);
	ck_assert_int_eq(CAND_EBADMSG, -CAND__STATUS__BAD_MESSAGE);
	ck_assert_int_eq(CAND_ENODEV, -CAND__STATUS__NO_SUCH_DEVICE);
	ck_assert_int_eq(CAND_ENETDOWN, -CAND__STATUS__NETWORK_DOWN);
	ck_assert_int_eq(CAND_ETXFULL, -CAND__STATUS__TX_BUFFER_FULL);
	ck_assert_int_eq(CAND_ENOTOPEN, -CAND__STATUS__NOT_OPEN);
	ck_assert_int_eq(CAND_EALREADY, -CAND__STATUS__ALREADY_OPEN);
	ck_assert_int_eq(CAND_EPERM, -CAND__STATUS__PERMISSION_DENIED);
	ck_assert_int_eq(CAND_EUNSUPP, -CAND__STATUS__UNSUPPORTED);
	ck_assert_int_eq(CAND_ELIMIT, -CAND__STATUS__LIMIT_EXCEEDED);
	ck_assert_int_eq(CAND_EIO, -CAND__STATUS__IO_ERROR);
	ck_assert_int_eq(CAND_EINTERNAL, -CAND__STATUS__INTERNAL);
	ck_assert_int_eq(CAND_ESHUTDOWN, -CAND__STATUS__SHUTTING_DOWN);
}
END_TEST

START_TEST(test_every_code_has_a_message)
{
	const char *unknown = cand_strerror(-9999);
	int codes[] = {CAND_OK,	       CAND_EINVAL,	   CAND_EBADMSG,
		       CAND_ENODEV,    CAND_ENETDOWN,	   CAND_ETXFULL,
		       CAND_ENOTOPEN,  CAND_EALREADY,	   CAND_EPERM,
		       CAND_EUNSUPP,   CAND_ELIMIT,	   CAND_EIO,
		       CAND_EINTERNAL, CAND_ESHUTDOWN,	   CAND_ETIMEOUT,
		       CAND_ECONNECT,  CAND_EDISCONNECTED, CAND_ENOMEM,
		       CAND_ESYS,      CAND_EPROTO,	   CAND_ERECONNECTED};
	size_t i, j;

	ck_assert_ptr_nonnull(unknown);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		ck_assert_ptr_nonnull(cand_strerror(codes[i]));
		ck_assert_str_ne(cand_strerror(codes[i]), unknown);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(cand_strerror(codes[i]),
					 cand_strerror(codes[j]));
	}
	ck_assert_ptr_nonnull(strstr(cand_strerror(CAND_ETXFULL), "TX"));
}
END_TEST

Suite *status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("mapping");

	tcase_add_test(tc, test_errno_mapping);
	tcase_add_test(tc, test_library_codes_match_status);
	tcase_add_test(tc, test_every_code_has_a_message);
	suite_add_tcase(s, tc);
	return s;
}
