"""
A daemon restart under open buses. libcand reconnects and sets up again
the channel, its filters and the periodic tasks; to a python-can program
the bus stays open: recv() goes on (a warning on the can.cand logger says
frames of the gap are lost), a can.Notifier keeps running, a send made
while the daemon is away waits for it, recv_event() yields a "reconnected"
BusEvent, and a bus told not to wait (reconnect_ms) fails as before.
"""

import threading
import time

import can
import can_cand
from helpers import RX_TIMEOUT, BusTest, Daemon

CONF = "[rule all]\ninterfaces = *\nusers = *\nrights = read send periodic\n"
# From the restart to the bus receiving again: the daemon's start and
# libcand's backoff (at most 1 s between tries), on a loaded host.
BACK_WITHIN = 20.0


def message(arb, *data):
    return can.Message(arbitration_id=arb, is_extended_id=False, data=bytes(data))


class Restart(BusTest):
    RUN_AS = "root"

    def setUp(self):
        self.daemon = Daemon("restart", CONF).start()
        self.addCleanup(self.daemon.kill)
        self.witness = self.bus("socketcan")

    def cand(self, **kwargs):
        return self.bus(socket=self.daemon.sock, **kwargs)

    def restart(self):
        self.daemon.kill()
        self.daemon.start()

    def until_back(self, bus, arb, recv=None):
        """Sends arb from the witness until bus receives it: the first
        frame bus gets after the restart."""
        recv = recv or bus.recv
        deadline = time.monotonic() + BACK_WITHIN
        n = 0
        while time.monotonic() < deadline:
            n += 1
            self.witness.send(message(arb, n & 0xFF))
            got = recv(0.1)
            if got is not None:
                return got
        self.fail(f"{bus} received nothing within {BACK_WITHIN} s of the restart")

    def test_recv_goes_on_with_its_filters(self):
        bus = self.cand(can_filters=[{"can_id": 0x140, "can_mask": 0x7FF}])
        self.witness.send(message(0x140, 1))
        self.assertEqual(self.recv(bus).data, b"\x01")
        self.restart()
        with self.assertLogs("can.cand", level="WARNING") as logs:
            got = self.until_back(bus, 0x140)
        self.assertEqual(got.arbitration_id, 0x140)
        self.assertIn("reconnected to " + self.daemon.sock, logs.output[0])
        self.assertIn("frames of the gap are lost", logs.output[0])
        self.assertEqual(bus.reconnects, 1)
        # Probes of the wait may still be on their way (a slow daemon,
        # under valgrind): read up to a marker of two bytes, which no
        # probe has.
        self.witness.send(message(0x140, 0xFF, 0xFF))
        while (got := self.recv(bus)).data != b"\xff\xff":
            self.assertEqual(got.arbitration_id, 0x140)
        # The filter came back with the channel.
        self.witness.send(message(0x141, 2))
        self.witness.send(message(0x140, 3))
        self.assertEqual(self.recv(bus).data, b"\x03")
        self.assertNothing(bus)

    def test_a_notifier_keeps_running(self):
        bus = self.cand()
        reader = can.BufferedReader()
        notifier = can.Notifier(bus, [reader], timeout=0.1)
        self.addCleanup(notifier.stop)
        self.witness.send(message(0x142, 1))
        self.assertEqual(reader.get_message(RX_TIMEOUT).arbitration_id, 0x142)
        self.restart()
        got = self.until_back(bus, 0x143, reader.get_message)
        self.assertEqual(got.arbitration_id, 0x143)
        self.assertIsNone(notifier.exception)
        self.assertEqual(bus.reconnects, 1)

    def test_recv_event_says_so(self):
        bus = self.cand()
        self.restart()
        deadline = time.monotonic() + BACK_WITHIN
        event = None
        while time.monotonic() < deadline:
            event = bus.recv_event(0.2)
            if isinstance(event, can_cand.BusEvent):
                break
        self.assertIsNotNone(event, "no event after the restart")
        self.assertEqual(event.kind, "reconnected")
        self.assertTrue(event.info["shutdown"], event)  # SIGTERM: it said goodbye
        self.assertGreater(event.info["gap"], 0)
        self.assertLess(event.info["lost_since"], event.timestamp)
        self.assertEqual(bus.reconnects, 1)
        self.witness.send(message(0x144, 1))
        self.assertEqual(bus.recv_event(RX_TIMEOUT).arbitration_id, 0x144)

    def test_tasks_come_back(self):
        bus = self.cand()
        task = bus.send_periodic(message(0x145, 7), 0.05)
        self.assertEqual(self.recv(self.witness).arbitration_id, 0x145)
        self.restart()
        self.drain(self.witness)
        # The task is set up again at the bus's next call: here a receive.
        bus.recv(0.5)
        deadline = time.monotonic() + BACK_WITHIN
        got = None
        while time.monotonic() < deadline and got is None:
            bus.recv(0.05)
            got = self.witness.recv(0.05)
        self.assertIsNotNone(got, "the task did not come back")
        self.assertEqual((got.arbitration_id, bytes(got.data)), (0x145, b"\x07"))
        task.modify_data(message(0x145, 8))
        time.sleep(0.2)
        self.drain(self.witness)
        self.assertEqual(bytes(self.recv(self.witness).data), b"\x08")
        task.stop()
        time.sleep(0.2)
        self.drain(self.witness)
        self.assertNothing(self.witness, 0.3)

    def test_a_send_waits_for_the_daemon(self):
        bus = self.cand()
        self.daemon.kill()
        done = []
        sender = threading.Thread(target=lambda: done.append(bus.send(message(0x146, 9))))
        sender.start()
        time.sleep(0.5)
        self.assertEqual(done, [], "the send went nowhere without a daemon")
        self.daemon.start()
        sender.join(BACK_WITHIN)
        self.assertEqual(done, [None], "the send did not complete")
        got = self.recv(self.witness)
        self.assertEqual((got.arbitration_id, bytes(got.data)), (0x146, b"\x09"))

    def test_reconnect_ms_gives_up(self):
        bus = self.cand(reconnect_ms=300)
        self.daemon.kill()
        t0 = time.monotonic()
        with self.assertRaises(can.CanOperationError) as caught:
            for _ in range(20):
                bus.recv(RX_TIMEOUT)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertIn("gave up reconnecting after 300 ms", str(caught.exception))
        with self.assertRaises(can.CanOperationError):
            bus.send(message(0x147))
        bus.shutdown()
