"""
The python-can-cand tests, one group at a time:

    /usr/bin/python3 tests/python/run.py user|root [NAME...]

Runs the test classes of tests/python/test_*.py whose RUN_AS is the group
("user": as an ordinary member of group "can"; "root": what needs root,
such as a daemon of its own or a link to take down). NAME narrows it to
tests whose id contains one of them ($CAND_PY_TESTS does the same). Prints
PASS:/FAIL: per test and last "python-GROUP: N passed, N failed".
"""

import os
import sys
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class Result(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.passed = 0
        self.failed = 0
        self._t0 = 0.0

    def startTest(self, test):
        super().startTest(test)
        self._t0 = time.monotonic()
        print(f"---- {test.id()}", flush=True)

    def _took(self):
        return f"({time.monotonic() - self._t0:.1f} s)"

    def addSuccess(self, test):
        self.passed += 1
        print(f"PASS: python:{test.id()} {self._took()}", flush=True)

    def _fail(self, test, err):
        self.failed += 1
        print("".join(traceback.format_exception(*err)), end="", flush=True)
        print(f"FAIL: python:{test.id()} {self._took()}", flush=True)

    def addFailure(self, test, err):
        self._fail(test, err)

    def addError(self, test, err):
        self._fail(test, err)

    def addSkip(self, test, reason):
        # A test that cannot run here fails: nothing passes by not running.
        self.failed += 1
        print(f"FAIL: python:{test.id()} skipped: {reason}", flush=True)


def tests_of(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from tests_of(item)
        else:
            yield item


def main(argv):
    if len(argv) < 2 or argv[1] not in ("user", "root"):
        print(__doc__, file=sys.stderr)
        return 2
    group = argv[1]
    names = argv[2:] or os.environ.get("CAND_PY_TESTS", "").split()
    sys.path.insert(0, HERE)
    loaded = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = Result()
    for test in tests_of(loaded):
        if isinstance(test, unittest.loader._FailedTest):  # an import error
            if group == "user":
                test.run(result)
            continue
        if getattr(test, "RUN_AS", None) != group:
            continue
        if names and not any(n in test.id() for n in names):
            continue
        test.run(result)
    print(f"python-{group}: {result.passed} passed, {result.failed} failed", flush=True)
    return 0 if result.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
