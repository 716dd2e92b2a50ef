"""
send(msg, timeout) as python-can documents it: None waits as long as it
takes, 0 tries once, > 0 waits up to that long, then CanOperationError.
A vcan's TX queue never fills, so a send budget (cand.conf's send_rate)
makes the waiting: cand holds a send over budget until its token comes,
as it holds one that meets a full TX queue.
"""

import time

import can
from helpers import BusTest, Daemon

RATE = 4  # frames a second: a token every 250 ms
CONF = (
    "[rule all]\ninterfaces = *\nusers = *\nrights = read send periodic\n"
    f"send_rate = {RATE}/s\nsend_burst = 1\n"
)


def message(n):
    return can.Message(arbitration_id=0x170, is_extended_id=False, data=bytes([n]))


class SendTimeout(BusTest):
    RUN_AS = "root"

    def setUp(self):
        self.daemon = Daemon("budget", CONF).start()
        self.addCleanup(self.daemon.kill)
        self.witness = self.bus("socketcan", can_filters=[{"can_id": 0x170, "can_mask": 0x7FF}])
        self.cand = self.bus(socket=self.daemon.sock)

    def timed(self, msg, timeout):
        t0 = time.monotonic()
        try:
            self.cand.send(msg, timeout)
        except can.CanOperationError as error:
            return time.monotonic() - t0, error
        return time.monotonic() - t0, None

    def test_timeouts(self):
        took, error = self.timed(message(1), 0)
        self.assertIsNone(error, "the first frame is within the burst")
        # The bucket is empty now: 0 tries once, a short wait is too short.
        took, error = self.timed(message(2), 0)
        self.assertIsInstance(error, can.CanOperationError)
        self.assertIn("Failed to transmit", str(error))
        self.assertIn("budget", str(error))
        self.assertLess(took, 0.2)
        took, error = self.timed(message(3), 0.02)
        self.assertIsInstance(error, can.CanOperationError)
        # Long enough: it waits for its token, then goes.
        took, error = self.timed(message(4), 2.0)
        self.assertIsNone(error)
        self.assertGreater(took, 0.05)
        took, error = self.timed(message(5), None)
        self.assertIsNone(error)
        self.assertGreater(took, 0.1, "None waits for the token")
        got = [bytes(self.recv(self.witness).data)[0] for _ in range(3)]
        self.assertEqual(got, [1, 4, 5])
        self.assertNothing(self.witness, 0.3)

    def test_nothing_over_budget_reaches_the_bus(self):
        sent = 0
        t0 = time.monotonic()
        for i in range(20):
            try:
                self.cand.send(message(i), 0)
                sent += 1
            except can.CanOperationError:
                pass
        span = time.monotonic() - t0
        got = 0
        while self.witness.recv(0.3 if got < sent else 0.1) is not None:
            got += 1
        self.assertEqual(got, sent)
        self.assertLessEqual(sent, 1 + RATE * span + 1)
