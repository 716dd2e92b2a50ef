"""
What must hold for python-can 4.1 (Debian 12) and 4.5/4.6 alike, checked by
feature: the interface is found through its entry point, Message() takes
the positional order the receive path relies on, the 4.3+ calling
conventions of _send_periodic_internal and protocol, and the Message
fields a received frame carries.
"""

import importlib.metadata
import inspect

import can
import can_cand
from can_cand import frames
from helpers import RX_TIMEOUT, BusTest


class Compat(BusTest):
    def test_entry_point(self):
        eps = importlib.metadata.entry_points()
        group = (
            eps.select(group="can.interface") if hasattr(eps, "select") else eps["can.interface"]
        )
        found = {ep.name: ep.value for ep in group}
        self.assertEqual(found.get("cand"), "can_cand:CandBus")
        dist = importlib.metadata.distribution("python-can-cand")
        self.assertEqual(dist.version, can_cand.__version__)
        self.assertIs(can.interface._get_class_for_interface("cand"), can_cand.CandBus)

    def test_positional_message(self):
        self.assertTrue(frames._POSITIONAL, inspect.signature(can.Message))

    def test_protocol(self):
        protocol = getattr(can, "CanProtocol", None)
        classic, fd = self.bus(channel="vcan1"), self.bus(fd=True)
        if protocol is None:
            self.assertFalse(hasattr(classic, "_can_protocol"))
            return
        self.assertEqual(classic.protocol, protocol.CAN_20)
        self.assertEqual(fd.protocol, protocol.CAN_FD)

    def test_send_periodic_signature(self):
        """4.3+ calls _send_periodic_internal(msgs, period, duration,
        autostart, modifier_callback); 4.1 (msgs, period, duration)."""
        params = list(inspect.signature(can_cand.CandBus._send_periodic_internal).parameters)
        self.assertEqual(
            params, ["self", "msgs", "period", "duration", "autostart", "modifier_callback"]
        )
        bus = self.bus()
        watch = self.bus("socketcan")
        msg = can.Message(arbitration_id=0x601, is_extended_id=False)
        task = bus._send_periodic_internal([msg], 0.05, None)
        self.assertEqual(self.recv(watch).arbitration_id, 0x601)
        task.stop()

    def test_detect_available_configs(self):
        configs = can.detect_available_configs("cand")
        self.assertIn({"interface": "cand", "channel": "vcan0"}, configs)
        self.assertIn({"interface": "cand", "channel": "can0"}, configs)
        self.assertTrue(all(set(c) == {"interface", "channel"} for c in configs))

    def test_unknown_keywords(self):
        bus = self.bus(bitrate=500000, single_handle=True, app_name="x", whatever=1)
        self.assertEqual(bus.channel, "vcan0")
        self.assertIn("vcan0", bus.channel_info)

    def test_received_message_types(self):
        bus = self.bus()
        self.bus("socketcan").send(
            can.Message(arbitration_id=0x602, is_extended_id=False, data=b"\x01")
        )
        msg = bus.recv(RX_TIMEOUT)
        self.assertIsInstance(msg.data, bytearray)
        self.assertIsInstance(msg.timestamp, float)
        self.assertIsInstance(msg.channel, str)
        for name in (
            "is_extended_id",
            "is_remote_frame",
            "is_error_frame",
            "is_fd",
            "is_rx",
            "bitrate_switch",
            "error_state_indicator",
        ):
            self.assertIsInstance(getattr(msg, name), bool, name)

    def test_context_manager(self):
        with can.Bus(interface="cand", channel="vcan0") as bus:
            bus.send(can.Message(arbitration_id=0x603))
        self.assertEqual(bus.fileno(), -1)
