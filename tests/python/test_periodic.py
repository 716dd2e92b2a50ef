"""
send_periodic() through cand, watched by an independent receiver: a
socketcan bus (Debian's python-can) whose kernel timestamps give the
period. The kernel's broadcast manager keeps the time, so the intervals
are tight even in the VM.
"""

import inspect
import signal
import statistics
import time
import warnings

import can
from helpers import PYTHON, RX_TIMEOUT, SETTLE, BusTest, spawn, stop

PERIOD = 0.05


def message(arb, *data, **kw):
    return can.Message(arbitration_id=arb, is_extended_id=False, data=bytes(data), **kw)


class Periodic(BusTest):
    def setUp(self):
        self.cand = self.bus(fd=True)
        self.watch = self.bus("socketcan", fd=True)

    def frames(self, arb, seconds):
        """What the watcher saw with id arb for seconds."""
        got = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            msg = self.watch.recv(0.05)
            if msg is not None and msg.arbitration_id == arb:
                got.append(msg)
        return got

    def intervals(self, msgs):
        return [b.timestamp - a.timestamp for a, b in zip(msgs, msgs[1:])]

    def assertPeriod(self, msgs, period=PERIOD):
        gaps = self.intervals(msgs)
        self.assertGreater(len(gaps), 3, f"only {len(msgs)} frames")
        self.assertAlmostEqual(statistics.median(gaps), period, delta=period * 0.1)
        self.assertLess(max(gaps), period * 2.5, f"a gap of {max(gaps):.3f} s")

    def test_period(self):
        task = self.cand.send_periodic(message(0x401, 1, 2), PERIOD)
        self.assertIsInstance(task, can.broadcastmanager.CyclicSendTaskABC)
        got = self.frames(0x401, 1.0)
        task.stop()
        self.assertPeriod(got)
        self.assertTrue(all(bytes(m.data) == b"\x01\x02" for m in got))
        self.assertGreaterEqual(len(got), 15)

    def test_modify_keeps_the_period(self):
        task = self.cand.send_periodic(message(0x402, 1), PERIOD)
        before = self.frames(0x402, 0.5)
        task.modify_data(message(0x402, 2))
        after = self.frames(0x402, 0.5)
        task.stop()
        both = before + after
        self.assertPeriod(both)
        data = [m.data[0] for m in both]
        self.assertEqual(data, sorted(data), "the old data came after the new")
        self.assertEqual(data[0], 1)
        self.assertEqual(data[-1], 2)
        # Across the change the interval is the period: no restart.
        i = data.index(2)
        self.assertAlmostEqual(
            both[i].timestamp - both[i - 1].timestamp, PERIOD, delta=PERIOD * 0.4
        )

    def test_modify_checks(self):
        task = self.cand.send_periodic(message(0x403, 1), PERIOD)
        with self.assertRaises(ValueError):
            task.modify_data(message(0x404, 1))
        with self.assertRaises(ValueError):
            task.modify_data([message(0x403, 1), message(0x403, 2)])
        task.stop()

    def test_stop_start(self):
        task = self.cand.send_periodic(message(0x405, 5), PERIOD)
        self.assertGreater(len(self.frames(0x405, 0.3)), 2)
        task.stop()
        self.frames(0x405, SETTLE)  # what was on its way
        self.assertEqual(self.frames(0x405, 0.4), [])
        task.start()
        self.assertPeriod(self.frames(0x405, 0.6))
        task.stop()

    def test_duration(self):
        self.cand.send_periodic(message(0x406, 6), PERIOD, duration=15 * PERIOD)
        got = self.frames(0x406, 15 * PERIOD + 0.7)
        # duration / period frames, the first at once, one per period.
        self.assertEqual(len(got), 15)
        self.assertPeriod(got)

    def test_sequence(self):
        msgs = [message(0x407, i) for i in range(3)]
        task = self.cand.send_periodic(msgs, PERIOD)
        got = self.frames(0x407, 1.0)
        task.stop()
        self.assertPeriod(got)
        data = [m.data[0] for m in got]
        start = data.index(0)
        self.assertEqual(data[start : start + 6], [0, 1, 2, 0, 1, 2])

    def test_extended(self):
        task = self.cand.send_periodic(can.Message(arbitration_id=0x1234567, data=b"\x01"), PERIOD)
        got = self.frames(0x1234567, 0.5)
        task.stop()
        self.assertPeriod(got)
        self.assertTrue(all(m.is_extended_id and not m.is_fd for m in got))
        self.frames(0x1234567, SETTLE)
        self.assertEqual(self.frames(0x1234567, 0.3), [])

    def test_fd(self):
        """CAN FD frames, modified in flight; the task ends with its bus.
        (Not stop(): cand's TX_DELETE lacks CAN_FD_FRAME, so the kernel
        refuses to stop an FD task; reported, daemon/bcm.c.)"""
        bus = can.Bus(interface="cand", channel="vcan0", fd=True)
        msg = can.Message(arbitration_id=0x1234568, is_fd=True, bitrate_switch=True, data=bytes(20))
        task = bus.send_periodic(msg, PERIOD)
        before = self.frames(0x1234568, 0.3)
        task.modify_data(
            can.Message(
                arbitration_id=0x1234568, is_fd=True, bitrate_switch=True, data=b"\x01" * 20
            )
        )
        after = self.frames(0x1234568, 0.3)
        bus.shutdown()
        self.assertPeriod(before + after)
        self.assertTrue(all(m.is_fd and m.bitrate_switch and m.dlc == 20 for m in before + after))
        self.assertEqual(after[-1].data, bytearray(b"\x01" * 20))
        self.frames(0x1234568, SETTLE)
        self.assertEqual(self.frames(0x1234568, 0.3), [])

    def test_autostart_false(self):
        """python-can 4.3+'s autostart, as its send_periodic() passes it."""
        task = self.cand._send_periodic_internal(message(0x408, 8), PERIOD, None, False, None)
        self.assertEqual(self.frames(0x408, 0.3), [])
        task.start()
        self.assertPeriod(self.frames(0x408, 0.5))
        task.stop()

    def test_modifier_callback(self):
        """python-can 4.3+'s modifier_callback: a thread-based task, as the
        socketcan backend; python-can 4.1 has no such thing."""
        msg = message(0x409, 0)

        def bump(m):
            m.data[0] = (m.data[0] + 1) % 256

        if (
            "modifier_callback"
            not in inspect.signature(can.BusABC._send_periodic_internal).parameters
        ):
            with self.assertRaises(ValueError):
                self.cand._send_periodic_internal(msg, PERIOD, None, True, bump)
            return
        with warnings.catch_warnings(record=True):
            task = self.cand._send_periodic_internal(msg, PERIOD, None, True, bump)
        got = self.frames(0x409, 0.5)
        task.stop()
        self.assertGreater(len(got), 3)
        self.assertEqual(len({m.data[0] for m in got}), len(got))

    def test_stop_all(self):
        tasks = [self.cand.send_periodic(message(0x40A + i, i), PERIOD) for i in range(3)]
        self.assertEqual(len(self.frames(0x40A, 0.2)) > 0, True)
        self.cand.stop_all_periodic_tasks()
        self.frames(0x40A, SETTLE)
        end = time.monotonic() + 0.4
        while time.monotonic() < end:
            msg = self.watch.recv(0.05)
            self.assertFalse(msg is not None and 0x40A <= msg.arbitration_id < 0x40D, str(msg))
        tasks[0].start()
        self.assertGreater(len(self.frames(0x40A, 0.3)), 2)
        tasks[0].stop()

    def test_several_tasks_one_id(self):
        a = self.cand.send_periodic(message(0x40E, 1), PERIOD)
        b = self.cand.send_periodic(message(0x40E, 2), PERIOD)
        got = self.frames(0x40E, 0.5)
        a.stop()
        b.stop()
        self.assertEqual({m.data[0] for m in got}, {1, 2})

    def test_all_channels(self):
        any_bus = self.bus(channel="")
        task = any_bus.send_periodic(message(0x40F, 0xF, channel="vcan0"), PERIOD)
        self.assertPeriod(self.frames(0x40F, 0.5))
        task.stop()

    def test_ends_with_the_bus(self):
        bus = can.Bus(interface="cand", channel="vcan0")
        bus.send_periodic(message(0x410, 1), PERIOD)
        self.assertGreater(len(self.frames(0x410, 0.3)), 2)
        bus.shutdown()
        self.frames(0x410, SETTLE)
        self.assertEqual(self.frames(0x410, 0.4), [])

    def test_ends_with_the_process(self):
        code = (
            "import can, sys, time\n"
            "bus = can.Bus(interface='cand', channel='vcan0')\n"
            "bus.send_periodic(can.Message(arbitration_id=0x411, is_extended_id=False), 0.05)\n"
            "print('started', flush=True)\n"
            "time.sleep(600)\n"
        )
        proc = spawn([PYTHON, "-c", code])
        self.addCleanup(stop, proc, signal.SIGKILL)
        got = []
        end = time.monotonic() + 30
        while not got and time.monotonic() < end:
            got = self.frames(0x411, 0.5)
        self.assertTrue(got, "the task never sent")
        stop(proc, signal.SIGKILL)
        self.frames(0x411, SETTLE)
        self.assertEqual(self.frames(0x411, 0.5), [], "the task outlived its process")

    def test_bad_period(self):
        with self.assertRaises(ValueError):
            self.cand.send_periodic(message(0x412), 0)
        with self.assertRaises(ValueError):
            self.cand.send_periodic(message(0x412), -1)
        with self.assertRaises(ValueError):
            self.cand.send_periodic([message(0x412), message(0x413)], PERIOD)

    def test_duration_shorter_than_period(self):
        with self.assertRaises(can.CanOperationError) as caught:
            self.cand.send_periodic(message(0x414), 0.5, duration=0.1)
        self.assertIn("duration", str(caught.exception))
        self.assertNothing(self.watch, RX_TIMEOUT / 4)
