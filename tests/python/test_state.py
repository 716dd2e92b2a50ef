"""
What cand adds to python-can: the real bus state, bitrate= applied on a
real controller (with the right) or a warning (without), configuration,
restart, flush, drop counts and bus events in order with the frames.
can0/can1 are the VM's emulated SJA1000 pair; links taken down are a vcan
of our own.
"""

import subprocess
import time

import can
from helpers import RX_TIMEOUT, BusTest, python

VCAN = "vcanpy0"


def ip(*args):
    subprocess.run(["ip", "link", *args], check=True)


def bitrate_of(dev):
    out = subprocess.run(
        ["ip", "-details", "link", "show", dev], capture_output=True, text=True
    ).stdout
    return int(out.split(" bitrate ", 1)[1].split()[0])


class State(BusTest):
    """As a member of group "can": everything but configure."""

    def test_vcan(self):
        """vcan0 has no controller; other suites write error frames to it,
        so its state is "not applicable" or what those said."""
        bus = self.bus()
        status = bus.bus_status()
        self.assertEqual((status.channel, status.kind, status.hardware), ("vcan0", "vcan", False))
        if not status.from_error_frames:
            self.assertEqual(status.state, "not applicable")
        self.assertEqual(bus.state, status.bus_state)
        self.assertIsNone(status.config)
        self.assertEqual(status.mtu, 72)

    def test_controller(self):
        bus = self.bus(channel="can0")
        status = bus.bus_status()
        self.assertTrue(status.hardware)
        self.assertEqual(status.state, "ERROR-ACTIVE")
        self.assertEqual(bus.state, can.BusState.ACTIVE)
        self.assertEqual(status.config["bitrate"], 500000)
        self.assertEqual(status.config["sample_point"], 0.875)
        self.assertEqual((status.tx_errors, status.rx_errors), (0, 0))

    def test_all_channels(self):
        bus = self.bus(channel="")
        statuses = bus.bus_status()
        names = {s.channel for s in statuses}
        self.assertTrue({"vcan0", "vcan1", "can0", "can1"} <= names, names)
        # The worst state of the interfaces that are up.
        rank = [can.BusState.ACTIVE, can.BusState.PASSIVE, can.BusState.ERROR]
        worst = max((s.bus_state for s in statuses if s.up), key=rank.index)
        self.assertEqual(bus.state, worst)

    def test_bitrate_ignored_on_vcan(self):
        with self.assertNoLogs("can.cand", level="WARNING"):
            bus = self.bus(bitrate=250000, data_bitrate=2000000)
        self.assertIsNone(bus.bus_status().config)

    def test_bitrate_without_the_right(self):
        with self.assertLogs("can.cand", level="WARNING") as logs:
            bus = self.bus(channel="can0", bitrate=250000)
        self.assertIn("bitrate 250000 on can0 was not applied", logs.output[0])
        self.assertIn("configure", logs.output[0])
        self.assertEqual(bitrate_of("can0"), 500000)
        with self.assertNoLogs("can.cand", level="WARNING"):
            self.bus(channel="can0", bitrate=500000)  # already so: nothing to do
        with self.assertRaises(can.CanOperationError) as caught:
            bus.configure(bitrate=125000)
        self.assertIn("configure", str(caught.exception))

    def test_restart_refused(self):
        bus = self.bus(channel="can0")
        with self.assertRaises(can.CanOperationError) as caught:
            bus.restart()
        self.assertIn("can0", str(caught.exception))

    def test_kernel_drops_and_flush(self):
        bus = self.bus()
        self.assertEqual(bus.kernel_drops, 0)
        self.assertEqual(bus.flush_tx_buffer(), 0)

    def test_events_in_order(self):
        """Frames and events come from recv_event() in order; a stalled
        reader gets nothing lost (the daemon buffers for it)."""
        bus = self.bus()
        other = self.bus("socketcan")
        for i in range(3):
            other.send(can.Message(arbitration_id=0x80 + i, is_extended_id=False))
        got = [bus.recv_event(RX_TIMEOUT) for _ in range(3)]
        self.assertEqual([m.arbitration_id for m in got], [0x80, 0x81, 0x82])
        self.assertIsNone(bus.recv_event(0.1))


class Configure(BusTest):
    """As root, who holds cand's configure right."""

    RUN_AS = "root"

    def setUp(self):
        self.addCleanup(self._restore)

    def _restore(self):
        for dev in ("can0", "can1"):
            subprocess.run(
                f"ip link set {dev} down; ip link set {dev} type can bitrate 500000 "
                f"sample-point 0.875 restart-ms 100 listen-only off; ip link set {dev} up",
                shell=True,
                check=False,
            )
        subprocess.run(["ip", "link", "del", VCAN], stderr=subprocess.DEVNULL, check=False)

    def test_bitrate_applied(self):
        with self.assertLogs("can.cand", level="INFO") as logs:
            bus = self.bus(channel="can0", bitrate=250000)
        self.assertIn("configured", logs.output[-1])
        self.assertEqual(bitrate_of("can0"), 250000)
        self.assertEqual(bus.bus_status().config["bitrate"], 250000)
        self.assertEqual(bus.state, can.BusState.ACTIVE)

    def test_configure(self):
        bus = self.bus(channel="can1")
        done = bus.configure(bitrate=125000, sample_point=0.75, listen_only=True)
        self.assertTrue(done.cycled)
        self.assertEqual(done.config["bitrate"], 125000)
        self.assertEqual(bitrate_of("can1"), 125000)
        self.assertTrue(bus.bus_status().config["ctrlmode"] & 0x02)

    def test_fd_on_a_classic_controller(self):
        bus = self.bus(channel="can0")
        with self.assertLogs("can.cand", level="WARNING") as logs:
            self.bus(channel="can0", data_bitrate=2000000)
        self.assertIn("data_bitrate 2000000 on can0 was not applied", logs.output[0])
        with self.assertRaises(can.CanOperationError):
            bus.configure(data_bitrate=2000000, fd=True)

    def test_link_down_is_error_state_and_an_event(self):
        ip("add", "dev", VCAN, "type", "vcan")
        ip("set", VCAN, "up")
        bus = self.bus(channel=VCAN)
        self.assertEqual(bus.bus_status().state, "not applicable")
        self.assertEqual(bus.state, can.BusState.ACTIVE)
        sender = self.bus("socketcan", channel=VCAN)
        sender.send(can.Message(arbitration_id=0x91, is_extended_id=False))
        ip("set", VCAN, "down")
        first = bus.recv_event(RX_TIMEOUT)
        self.assertIsInstance(first, can.Message)
        event = bus.recv_event(RX_TIMEOUT)
        self.assertEqual((event.kind, event.channel), ("link", VCAN))
        self.assertFalse(event.info["up"])
        self.assertEqual(bus.state, can.BusState.ERROR)
        ip("set", VCAN, "up")
        deadline = time.monotonic() + RX_TIMEOUT
        while time.monotonic() < deadline:
            event = bus.recv_event(RX_TIMEOUT)
            if event is not None and event.kind == "link" and event.info["up"]:
                break
        self.assertTrue(event.info["up"], event)
        self.assertEqual(bus.state, can.BusState.ACTIVE)

    def test_state_from_error_frames(self):
        """A vcan has no controller, but error frames written to it say a
        state: CAN_ERR_CRTL with TX-passive and the counters."""
        ip("add", "dev", VCAN, "type", "vcan")
        ip("set", VCAN, "up")
        bus = self.bus(channel=VCAN)
        sender = self.bus("socketcan", channel=VCAN)
        passive = bytes([0, 0x20, 0, 0, 0, 0, 130, 0])  # CAN_ERR_CRTL_TX_PASSIVE
        sender.send(
            can.Message(
                arbitration_id=0x204, is_extended_id=False, is_error_frame=True, data=passive
            )
        )
        got = {}
        deadline = time.monotonic() + RX_TIMEOUT
        while len(got) < 2 and time.monotonic() < deadline:
            item = bus.recv_event(RX_TIMEOUT)
            got["frame" if isinstance(item, can.Message) else item.kind] = item
        self.assertTrue(got["frame"].is_error_frame)
        self.assertEqual(got["state"].info["state"], "ERROR-PASSIVE")
        self.assertTrue(got["state"].info["from_error_frames"])
        self.assertEqual(bus.state, can.BusState.PASSIVE)
        self.assertEqual(bus.bus_status().tx_errors, 130)

    def test_link_down_raises_in_recv(self):
        """recv() reports the link going down once, as socketcan's read
        fails with ENETDOWN, and the bus goes on afterwards."""
        ip("add", "dev", VCAN, "type", "vcan")
        ip("set", VCAN, "up")
        bus = self.bus(channel=VCAN)
        ip("set", VCAN, "down")
        with self.assertRaises(can.CanOperationError) as caught:
            bus.recv(RX_TIMEOUT)
        self.assertEqual(caught.exception.error_code, 100)  # ENETDOWN
        ip("set", VCAN, "up")
        self.bus("socketcan", channel=VCAN).send(can.Message(arbitration_id=0x92))
        self.assertEqual(self.recv(bus).arbitration_id, 0x92)

    def test_user_cannot_configure(self):
        run = python(
            "import can\n"
            "bus = can.Bus(interface='cand', channel='can0')\n"
            "try:\n"
            "    bus.configure(bitrate=125000)\n"
            "except can.CanOperationError as e:\n"
            "    print('refused:', e)\n"
            "bus.shutdown()\n",
            user="candtest",
        )
        self.assertIn(
            "refused: Failed to configure can0: permission denied", run.stdout, run.stderr
        )
        self.assertEqual(bitrate_of("can0"), 500000)
