"""
python-can's command-line tools on interface "cand", end to end, with
can-utils as the independent other side: can.logger writes what cansend
sent, can.player sends what a log holds and candump sees it.
"""

import os
import re
import signal
import tempfile
import time

from helpers import PYTHON, BusTest, output, spawn, stop, wait_receivers, receivers

SENT = [
    "123#DEADBEEF",
    "1F334455#1122",
    "123#R",
    "7FF#",
    "456##1AABBCC",
    "1ABCDEF0##0112233445566778899AABBCC",
]


def strip(lines):
    """candump -L lines without the timestamp and python-can's direction
    mark (T, R); the kernel's CANFD_FDF flag (4), which candump shows on
    newer kernels, masked from ##<flags>."""
    out = []
    for line in lines:
        line = re.sub(r"^\(\d+\.\d+\) ", "", line.strip())
        line = re.sub(r" [TR]$", "", line)
        out.append(re.sub(r"##([4-7])", lambda m: "##%d" % (int(m.group(1)) - 4), line))
    return [line for line in out if line]


class Tools(BusTest):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cand-py-tools.")

    def candump(self):
        before = receivers("vcan0")
        proc = spawn(["candump", "-L", "vcan0"])
        self.addCleanup(stop, proc)
        self.assertTrue(wait_receivers("vcan0", before, proc), output(proc))
        return proc

    def logger(self, interface, log):
        before = receivers("vcan0")
        proc = spawn(
            [PYTHON, "-m", "can.logger", "-i", interface, "-c", "vcan0", "--fd", "-f", log]
        )
        self.addCleanup(stop, proc)
        self.assertTrue(wait_receivers("vcan0", before, proc), output(proc))
        return proc

    def test_logger(self):
        """can.logger -i cand writes what -i socketcan writes, line for line,
        timestamps and direction marks included, and what candump saw."""
        logs = {i: os.path.join(self.dir, f"{i}.log") for i in ("cand", "socketcan")}
        loggers = {i: self.logger(i, log) for i, log in logs.items()}
        witness = self.candump()
        for frame in SENT:
            self.assertEqual(os.system(f"cansend vcan0 '{frame}'"), 0, frame)
        time.sleep(1.0)
        for proc in loggers.values():
            self.assertEqual(stop(proc, signal.SIGINT), 0, output(proc))
        self.assertIn("Connected to CandBus", output(loggers["cand"]))
        stop(witness, signal.SIGINT)
        seen = strip(output(witness).splitlines())
        self.assertEqual(seen, [f"vcan0 {frame}" for frame in SENT])
        logged = {}
        for interface, log in logs.items():
            with open(log) as f:
                logged[interface] = f.readlines()
        # The same kernel timestamps, to the microsecond.
        self.assertEqual(logged["cand"], logged["socketcan"])
        self.assertEqual(strip(logged["cand"]), seen)

    def test_player(self):
        log = os.path.join(self.dir, "in.log")
        now = time.time()
        with open(log, "w") as f:
            for i, frame in enumerate(SENT):
                f.write(f"({now + i * 0.05:.6f}) vcan0 {frame}\n")
        witness = self.candump()
        player = spawn([PYTHON, "-m", "can.player", "-i", "cand", "-c", "vcan0", "--fd", log])
        self.addCleanup(stop, player)
        deadline = time.monotonic() + 60
        while player.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(player.returncode, 0, output(player))
        time.sleep(0.3)
        stop(witness, signal.SIGINT)
        seen = strip(output(witness).splitlines())
        self.assertEqual(seen, [f"vcan0 {frame}" for frame in SENT])
