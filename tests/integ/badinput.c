/*
 * Bad input: broken framing and undecodable requests from a raw Unix-socket
 * client, and invalid requests through libcand. Each must get a clear
 * answer (or a closed connection where the stream cannot be trusted), and
 * the daemon must go on serving everyone else.
 *
 * The tests are in badinput_wire.c and badinput_requests.c.
 */
#include "badinput.h"
#include "util.h"

Suite *badinput_suite(void)
{
	Suite *s = suite_create("badinput");
	TCase *tc = util_tcase("wire");

	badinput_wire_tests(tc);
	suite_add_tcase(s, tc);

	tc = util_tcase("requests");
	badinput_requests_tests(tc);
	suite_add_tcase(s, tc);
	return s;
}
