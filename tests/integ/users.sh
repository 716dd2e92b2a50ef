#!/bin/sh
# Test users and groups beyond the VM's candtest/candtest2 (tests/vm/README.md),
# added to the throwaway /etc once per run by run-all.sh:
#
#   group diag  4250  members: candtest2
#   group late  4260  no members (tests add one, then reload)
#   user candtest3  4244:4244, no other group
#
# Plain appends, as guest-setup.sh does: no lock files, fixed numbers.
set -eu
grep -q '^diag:' /etc/group || echo "diag:x:4250:candtest2" >>/etc/group
grep -q '^late:' /etc/group || echo "late:x:4260:" >>/etc/group
grep -q '^candtest3:' /etc/group || echo "candtest3:x:4244:" >>/etc/group
grep -q '^candtest3:' /etc/passwd ||
	echo "candtest3:x:4244:4244:cand test user 3:/tmp:/bin/sh" >>/etc/passwd
