"""
python-can's own back-to-back tests (test/back2back_test.py) with two
interface="cand" buses on vcan0, as python-can runs them for socketcan:
bitrate= and unknown keywords passed as python-can's tests pass them, CAN
FD on, a generous timeout for the VM.
"""

import random
import time
from multiprocessing.dummy import Pool as ThreadPool

import can
from helpers import RX_TIMEOUT, BusTest


class Back2Back(BusTest):
    BITRATE = 500000

    def setUp(self):
        self.bus1 = self.bus(bitrate=self.BITRATE, fd=True, single_handle=True)
        self.bus2 = self.bus(bitrate=self.BITRATE, fd=True, single_handle=True)

    def _check_received_message(self, recv_msg, sent_msg):
        self.assertIsNotNone(recv_msg, "No message was received on cand")
        self.assertEqual(recv_msg.arbitration_id, sent_msg.arbitration_id)
        self.assertEqual(recv_msg.is_extended_id, sent_msg.is_extended_id)
        self.assertEqual(recv_msg.is_remote_frame, sent_msg.is_remote_frame)
        self.assertEqual(recv_msg.is_error_frame, sent_msg.is_error_frame)
        self.assertEqual(recv_msg.is_fd, sent_msg.is_fd)
        self.assertEqual(recv_msg.bitrate_switch, sent_msg.bitrate_switch)
        self.assertEqual(recv_msg.dlc, sent_msg.dlc)
        if not sent_msg.is_remote_frame:
            self.assertSequenceEqual(recv_msg.data, sent_msg.data)

    def _send_and_receive(self, msg):
        self.bus1.send(msg)
        self._check_received_message(self.bus2.recv(RX_TIMEOUT), msg)
        self.assertIsNone(self.bus1.recv(0), "bus1 received its own message")
        msg.arbitration_id += 1
        self.bus2.send(msg)
        self.assertIsNone(self.bus2.recv(0), "bus2 received its own message")
        self._check_received_message(self.bus1.recv(RX_TIMEOUT), msg)

    def test_no_message(self):
        start = time.monotonic()
        self.assertIsNone(self.bus1.recv(0.1))
        self.assertGreaterEqual(time.monotonic() - start, 0.1)

    def test_multiple_shutdown(self):
        self.bus1.shutdown()
        self.bus1.shutdown()

    def test_timestamp(self):
        self.bus2.send(can.Message())
        recv_msg1 = self.recv(self.bus1)
        time.sleep(1.0)
        self.bus2.send(can.Message())
        recv_msg2 = self.recv(self.bus1)
        delta_time = recv_msg2.timestamp - recv_msg1.timestamp
        self.assertTrue(0.75 <= delta_time <= 1.5, f"1 s apart, measured {delta_time}")

    def test_standard_message(self):
        self._send_and_receive(
            can.Message(is_extended_id=False, arbitration_id=0x100, data=[1, 2, 3, 4, 5, 6, 7, 8])
        )

    def test_extended_message(self):
        self._send_and_receive(
            can.Message(
                is_extended_id=True, arbitration_id=0x123456, data=[10, 11, 12, 13, 14, 15, 16, 17]
            )
        )

    def test_remote_message(self):
        self._send_and_receive(
            can.Message(is_extended_id=False, arbitration_id=0x200, is_remote_frame=True, dlc=4)
        )

    def test_dlc_less_than_eight(self):
        self._send_and_receive(
            can.Message(is_extended_id=False, arbitration_id=0x300, data=[4, 5, 6])
        )

    def test_dlc_zero(self):
        self._send_and_receive(can.Message(is_extended_id=False, arbitration_id=0x310, data=[]))

    def test_fd_message(self):
        self._send_and_receive(
            can.Message(is_fd=True, is_extended_id=True, arbitration_id=0x56789, data=[0xFF] * 64)
        )

    def test_fd_message_with_brs(self):
        self._send_and_receive(
            can.Message(
                is_fd=True,
                bitrate_switch=True,
                is_extended_id=True,
                arbitration_id=0x98765,
                data=[0xFF] * 48,
            )
        )

    def test_fd_message_with_esi(self):
        msg = can.Message(
            is_fd=True, error_state_indicator=True, arbitration_id=0x98766, data=bytes(range(12))
        )
        self.bus1.send(msg)
        got = self.recv(self.bus2)
        self._check_received_message(got, msg)
        self.assertTrue(got.error_state_indicator)

    def test_fileno(self):
        fileno = self.bus1.fileno()
        self.assertIsNotNone(fileno)
        self.assertTrue(fileno == -1 or fileno > 0)

    def test_timestamp_is_absolute(self):
        self.bus2.send(can.Message())
        message = self.recv(self.bus1)
        self.assertAlmostEqual(message.timestamp, time.time(), delta=RX_TIMEOUT)

    def test_sub_second_timestamp_resolution(self):
        self.bus2.send(can.Message())
        time.sleep(0.01)
        self.bus2.send(can.Message())
        recv_msg_1 = self.recv(self.bus1)
        recv_msg_2 = self.recv(self.bus1)
        self.assertGreater(recv_msg_1.timestamp % 1 + recv_msg_2.timestamp % 1, 0)
        self.assertGreater(recv_msg_2.timestamp, recv_msg_1.timestamp)

    def test_unique_message_instances(self):
        bus3 = self.bus(bitrate=self.BITRATE, fd=True, receive_own_messages=True)
        bus3.send(can.Message(is_extended_id=False, arbitration_id=0x300, data=[2, 1, 3]))
        recv_msg_bus1 = self.recv(self.bus1)
        recv_msg_bus2 = self.recv(self.bus2)
        self_recv_msg_bus3 = self.recv(bus3)
        self._check_received_message(recv_msg_bus1, recv_msg_bus2)
        self._check_received_message(recv_msg_bus2, self_recv_msg_bus3)
        recv_msg_bus1.data[0] = 4
        self.assertNotEqual(recv_msg_bus1.data, recv_msg_bus2.data)
        self.assertEqual(recv_msg_bus2.data, self_recv_msg_bus3.data)

    def test_receive_own_messages(self):
        bus3 = self.bus(fd=True, receive_own_messages=True)
        msg = can.Message(is_extended_id=False, arbitration_id=0x301, data=[9])
        bus3.send(msg)
        own = self.recv(bus3)
        self._check_received_message(own, msg)
        # Our own frame is a transmitted one, as socketcan marks it.
        self.assertFalse(own.is_rx)
        self._check_received_message(self.recv(self.bus1), msg)
        self.bus1.send(msg)
        self.assertNothing(self.bus1)
        self._check_received_message(self.recv(bus3), msg)

    def test_send_periodic_duration(self):
        """python-can's regression test for #1713: a task with a duration
        sends for no longer than it. Counted in frames, duration / period
        of them, and none after: the time they span grows with how late the
        kernel's timers fire in a loaded VM, their number does not."""
        for duration, period in ((0.01, 0.003), (0.1, 0.011), (1, 0.4)):
            self.drain(self.bus1)
            self.bus2.send_periodic(can.Message(), period, duration)
            messages = [self.recv(self.bus1)]
            while (msg := self.bus1.recv(max(period * 1.25, 0.2))) is not None:
                messages.append(msg)
            self.assertEqual(len(messages), int(duration / period), (duration, period))


class CandBroadcastChannel(BusTest):
    """python-can's SocketCanBroadcastChannel: the "" channel."""

    def test_broadcast_channel(self):
        broadcast_bus = self.bus(channel="")
        regular_bus = self.bus(channel="vcan0")
        broadcast_bus.send(can.Message(channel="vcan0"))
        recv_msg = self.recv(regular_bus)
        self.assertEqual(recv_msg.channel, "vcan0")
        regular_bus.send(can.Message())
        recv_msg = self.recv(broadcast_bus)
        self.assertEqual(recv_msg.channel, "vcan0")

    def test_broadcast_needs_a_channel_to_send(self):
        broadcast_bus = self.bus(channel="")
        with self.assertRaises(can.CanOperationError):
            broadcast_bus.send(can.Message())


class ThreadSafe(BusTest):
    """python-can's TestThreadSafeBus, with fewer messages for the VM."""

    N = 200

    def setUp(self):
        self.bus1 = can.ThreadSafeBus(interface="cand", channel="vcan0", fd=True)
        self.bus2 = can.ThreadSafeBus(interface="cand", channel="vcan0", fd=True)
        self.addCleanup(self.bus1.shutdown)
        self.addCleanup(self.bus2.shutdown)

    def _pools(self):
        senders, receivers = ThreadPool(20), ThreadPool(20)
        self.addCleanup(senders.join)
        self.addCleanup(senders.close)
        self.addCleanup(receivers.join)
        self.addCleanup(receivers.close)
        return senders, receivers

    def test_concurrent_writes(self):
        message = can.Message(
            arbitration_id=0x123, channel="vcan0", is_extended_id=True, data=[254, 255, 1, 2]
        )
        senders, receivers = self._pools()
        senders.map_async(self.bus1.send, self.N * [message])
        got = receivers.map(lambda _: self.bus2.recv(30), self.N * [None])
        for msg in got:
            self.assertIsNotNone(msg)
            # Received on a vcan, it is local: is_rx False, as socketcan says.
            self.assertTrue(message.equals(msg, timestamp_delta=None, check_direction=False))

    def test_filtered_bus(self):
        included = can.Message(
            arbitration_id=0x123, channel="vcan0", is_extended_id=True, data=[254, 255, 1, 2]
        )
        excluded = can.Message(
            arbitration_id=0x02, channel="vcan0", is_extended_id=True, data=[1, 2, 3]
        )
        workload = self.N // 2 * [included] + self.N // 2 * [excluded]
        random.shuffle(workload)
        self.bus2.set_filters([{"can_id": 0x123, "can_mask": 0xFF, "extended": True}])
        senders, receivers = self._pools()
        senders.map_async(self.bus1.send, workload)
        got = receivers.map(lambda _: self.bus2.recv(30), self.N // 2 * [None])
        for msg in got:
            self.assertIsNotNone(msg)
            self.assertEqual(msg.arbitration_id, included.arbitration_id)
            self.assertTrue(included.equals(msg, timestamp_delta=None, check_direction=False))
        self.assertIsNone(self.bus2.recv(0.2))
