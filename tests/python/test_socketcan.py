"""
A cand bus against python-can's own socketcan backend (Debian's python-can)
on the same interface, both directions: every frame is received by a
socketcan bus and a cand bus at once, and the two Messages must agree field
by field, the kernel timestamp to the bit. Filters are compared the same
way: the same filters on both backends let the same frames through.
"""

import can
from helpers import SETTLE, BusTest, fields

FRAMES = (
    can.Message(arbitration_id=0x123, is_extended_id=False, data=b"\x11\x22\x33"),
    can.Message(arbitration_id=0x1ABCDEF0, is_extended_id=True, data=bytes(range(8))),
    can.Message(arbitration_id=0x7FF, is_extended_id=False, data=b""),
    can.Message(arbitration_id=0x234, is_extended_id=False, is_remote_frame=True, dlc=5),
    can.Message(arbitration_id=0x1234, is_extended_id=True, is_remote_frame=True, dlc=0),
    can.Message(arbitration_id=0x345, is_extended_id=False, is_fd=True, data=bytes(range(64))),
    can.Message(
        arbitration_id=0x456,
        is_extended_id=False,
        is_fd=True,
        bitrate_switch=True,
        data=b"\xaa" * 12,
    ),
    can.Message(
        arbitration_id=0x1F00F,
        is_extended_id=True,
        is_fd=True,
        error_state_indicator=True,
        data=b"\x01",
    ),
    # CAN_ERR_ACK, as a driver reports a frame nobody acknowledged (not a
    # controller state error frame: cand would take vcan0 for error-passive).
    can.Message(arbitration_id=0x020, is_extended_id=False, is_error_frame=True, data=bytes(8)),
)


class Versus(BusTest):
    def setUp(self):
        self.cand = self.bus("cand", fd=True)
        self.sc = self.bus("socketcan", fd=True)

    def _both_see(self, sender, msg):
        """msg sent on sender, seen by one bus of each backend."""
        cand_rx = self.bus("cand", fd=True)
        sc_rx = self.bus("socketcan", fd=True)
        sender.send(msg)
        a, b = self.recv(cand_rx), self.recv(sc_rx)
        self.assertEqual(fields(a), fields(b), f"cand vs socketcan for {msg}")
        self.assertEqual(type(a.timestamp), type(b.timestamp))
        self.assertEqual(a.arbitration_id, msg.arbitration_id)
        if not msg.is_remote_frame:
            self.assertEqual(bytes(a.data), bytes(msg.data))
        self.assertEqual(a.dlc, msg.dlc)
        return a

    def test_cand_to_both(self):
        for msg in FRAMES:
            with self.subTest(msg=str(msg)):
                self._both_see(self.cand, msg)

    def test_socketcan_to_both(self):
        for msg in FRAMES:
            with self.subTest(msg=str(msg)):
                self._both_see(self.sc, msg)

    def test_own_messages(self):
        """receive_own_messages on both: our echo, is_rx False, alike."""
        cand_own = self.bus("cand", fd=True, receive_own_messages=True)
        sc_own = self.bus("socketcan", fd=True, receive_own_messages=True)
        msg = can.Message(arbitration_id=0x55, is_extended_id=False, data=b"\x05")
        cand_own.send(msg)
        sc_own.send(msg)
        a, b = self.recv(cand_own), self.recv(sc_own)
        self.assertEqual(fields(a, skip=("timestamp",)), fields(b, skip=("timestamp",)))
        self.assertFalse(a.is_rx)
        # Each also sees the other's frame, as a foreign one.
        a, b = self.recv(cand_own), self.recv(sc_own)
        self.assertEqual(fields(a, skip=("timestamp",)), fields(b, skip=("timestamp",)))

    def test_local_loopback_off(self):
        """local_loopback=False: no other program here sees our frames."""
        quiet_cand = self.bus("cand", fd=True, local_loopback=False)
        quiet_sc = self.bus("socketcan", fd=True, local_loopback=False)
        witness = self.bus("socketcan", fd=True)
        for bus in (quiet_cand, quiet_sc):
            bus.send(can.Message(arbitration_id=0x66, is_extended_id=False))
        self.assertNothing(witness)
        self.assertNothing(self.cand)

    def test_all_channels(self):
        """The "" channel: Message.channel names the interface."""
        cand_any = self.bus("cand", channel="")
        sc_any = self.bus("socketcan", channel="")
        on_vcan1 = self.bus("socketcan", channel="vcan1")
        on_vcan1.send(can.Message(arbitration_id=0x77, is_extended_id=False, data=b"\x07"))
        a, b = self.recv(cand_any), self.recv(sc_any)
        self.assertEqual(fields(a), fields(b))
        self.assertEqual(a.channel, "vcan1")
        cand_any.send(can.Message(arbitration_id=0x78, is_extended_id=False, channel="vcan1"))
        got = self.recv(on_vcan1)
        self.assertEqual((got.arbitration_id, got.channel), (0x78, "vcan1"))

    def test_controllers(self):
        """can0 to can1 over the emulated bus: frames from the wire are
        is_rx True for both backends."""
        cand1 = self.bus("cand", channel="can1")
        sc1 = self.bus("socketcan", channel="can1")
        sender = self.bus("socketcan", channel="can0")
        sender.send(can.Message(arbitration_id=0x1A, is_extended_id=False, data=b"\x01\x02"))
        a, b = self.recv(cand1), self.recv(sc1)
        self.assertEqual(fields(a), fields(b))
        self.assertTrue(a.is_rx)

    def test_controller_local_sender(self):
        """On a real controller, a frame another program of this host sent
        is is_rx False for both backends (the kernel's MSG_DONTROUTE)."""
        cand0 = self.bus("cand", channel="can0")
        sc0 = self.bus("socketcan", channel="can0")
        sender = self.bus("socketcan", channel="can0")
        sender.send(can.Message(arbitration_id=0x1B, is_extended_id=False, data=b"\x03"))
        a, b = self.recv(cand0), self.recv(sc0)
        self.assertEqual(fields(a), fields(b))
        self.assertFalse(a.is_rx)

    def test_error_frames_ignored(self):
        cand_quiet = self.bus("cand", fd=True, ignore_rx_error_frames=True)
        sc_quiet = self.bus("socketcan", fd=True, ignore_rx_error_frames=True)
        self.sc.send(FRAMES[-1])
        self.sc.send(FRAMES[0])
        for bus in (cand_quiet, sc_quiet):
            self.assertFalse(self.recv(bus).is_error_frame)


FILTER_SETS = (
    [{"can_id": 0x100, "can_mask": 0x700}],
    [{"can_id": 0x100, "can_mask": 0x700, "extended": False}],
    [{"can_id": 0x100, "can_mask": 0x700, "extended": True}],
    [{"can_id": 0x123, "can_mask": 0x7FF}, {"can_id": 0x1ABCDEF0, "can_mask": 0x1FFFFFFF}],
    [{"can_id": 0, "can_mask": 0}],
    # The kernel's own flag bits, which socketcan passes through: an
    # inverted filter (CAN_INV_FILTER), extended ids only (CAN_EFF_FLAG).
    [{"can_id": 0x20000000 | 0x100, "can_mask": 0x700}],
    [{"can_id": 0x80000000 | 0x100, "can_mask": 0x80000700}],
    [{"can_id": 0x100, "can_mask": 0x80000700}],
)
TRAFFIC = [
    can.Message(arbitration_id=i, is_extended_id=ext, data=b"\x01")
    for i in (0x100, 0x123, 0x1FF, 0x200, 0x7FF, 0x1ABCDEF0)
    for ext in (False, True)
    if ext or i <= 0x7FF
]


class Filters(BusTest):
    def _passed(self, bus, sender, n):
        got = []
        for _ in range(n):
            msg = bus.recv(SETTLE)
            if msg is None:
                break
            got.append((msg.arbitration_id, msg.is_extended_id))
        return got

    def _compare(self, cand_bus, sc_bus):
        sender = self.bus("socketcan", channel="vcan0")
        for msg in TRAFFIC:
            sender.send(msg)
        sender.send(can.Message(arbitration_id=0x7FE, is_extended_id=False, data=b"\xff"))
        want = self._passed(sc_bus, sender, len(TRAFFIC) + 1)
        self.assertEqual(self._passed(cand_bus, sender, len(TRAFFIC) + 1), want)
        return want

    def test_like_socketcan(self):
        for filters in FILTER_SETS:
            with self.subTest(filters=filters):
                a = self.bus("cand", can_filters=filters)
                b = self.bus("socketcan", can_filters=filters)
                self._compare(a, b)
                a.shutdown()
                b.shutdown()

    def test_in_the_kernel(self):
        bus = self.bus("cand", can_filters=FILTER_SETS[0])
        self.assertTrue(bus._is_filtered)
        self.assertEqual(bus.filters, FILTER_SETS[0])

    def test_changed_at_runtime(self):
        a = self.bus("cand")
        b = self.bus("socketcan")
        self.assertGreater(len(self._compare(a, b)), 0)
        a.set_filters(FILTER_SETS[2])
        b.set_filters(FILTER_SETS[2])
        self._compare(a, b)
        a.set_filters(None)
        b.set_filters(None)
        self.assertEqual(len(self._compare(a, b)), len(TRAFFIC) + 1)

    def test_too_many_for_the_kernel(self):
        """More filters than cand takes (max_filters 512): as socketcan
        when setsockopt fails, filtering falls back to python-can's own."""
        many = [{"can_id": 0x100 + i, "can_mask": 0x7FF} for i in range(600)]
        with self.assertLogs("can.cand", level="ERROR"):
            a = self.bus("cand", can_filters=many)
        self.assertFalse(a._is_filtered)
        want = [(m.arbitration_id, m.is_extended_id) for m in TRAFFIC]
        want = [w for w in want if 0x100 <= w[0] < 0x100 + 600]
        sender = self.bus("socketcan")
        for msg in TRAFFIC:
            sender.send(msg)
        self.assertEqual(self._passed(a, sender, len(TRAFFIC)), want)
        # Back in the kernel once they fit.
        a.set_filters(FILTER_SETS[0])
        self.assertTrue(a._is_filtered)

    def test_bad_filter(self):
        with self.assertRaises(ValueError):
            self.bus("cand", can_filters=[{"can_id": 0x100}])
