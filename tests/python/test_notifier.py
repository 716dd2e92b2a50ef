"""
cand buses in the ways python-can programs use them beyond recv(): a
can.Notifier thread while the main thread sends, asyncio through fileno(),
select() on fileno() agreeing with recv(0), threads sharing one bus.
"""

import asyncio
import select
import threading

import can
from helpers import RX_TIMEOUT, BusTest


def burst(n, arb=0x500):
    return [
        can.Message(arbitration_id=arb, is_extended_id=False, data=i.to_bytes(2, "little"))
        for i in range(n)
    ]


class Notifying(BusTest):
    def test_notifier_thread_while_sending(self):
        """Receiving in a thread never blocks the sender, and the other way."""
        bus = self.bus(receive_own_messages=True)
        other = self.bus()
        reader = can.BufferedReader()
        notifier = can.Notifier(bus, [reader], timeout=1.0)
        self.addCleanup(notifier.stop)
        for mine, theirs in zip(burst(200, 0x500), burst(200, 0x501)):
            bus.send(mine)
            other.send(theirs)
        seen = [reader.get_message(RX_TIMEOUT) for _ in range(400)]
        self.assertNotIn(None, seen)
        for arb in (0x500, 0x501):
            got = [int.from_bytes(m.data, "little") for m in seen if m.arbitration_id == arb]
            self.assertEqual(got, list(range(200)))
        self.assertIsNone(reader.get_message(0.2))

    def test_asyncio(self):
        bus = self.bus()
        other = self.bus("socketcan")

        async def main():
            reader = can.AsyncBufferedReader()
            notifier = can.Notifier(bus, [reader], loop=asyncio.get_running_loop())
            try:
                for msg in burst(50, 0x510):
                    other.send(msg)
                return [await asyncio.wait_for(reader.get_message(), RX_TIMEOUT) for _ in range(50)]
            finally:
                notifier.stop()

        got = asyncio.run(main())
        self.assertEqual([int.from_bytes(m.data, "little") for m in got], list(range(50)))

    def test_fileno_is_readable_while_recv_has_something(self):
        bus = self.bus()
        other = self.bus("socketcan")
        fd = bus.fileno()
        self.assertEqual(select.select([fd], [], [], 0)[0], [])
        for msg in burst(20, 0x520):
            other.send(msg)
        self.assertEqual(select.select([fd], [], [], RX_TIMEOUT)[0], [fd])
        n = 0
        while select.select([fd], [], [], 0.2)[0]:
            self.assertIsNotNone(bus.recv(0), "readable, but recv(0) gave nothing")
            n += 1
        self.assertEqual(n, 20)
        self.assertIsNone(bus.recv(0))

    def test_a_send_wakes_a_waiting_receiver(self):
        """A send in one thread may read the frames a waiting recv() in
        another is waiting for: the waiter must still get them at once."""
        bus = self.bus(receive_own_messages=True)
        got = []
        waiter = threading.Thread(target=lambda: got.append(bus.recv(30)))
        waiter.start()
        bus.send(can.Message(arbitration_id=0x530, is_extended_id=False))
        waiter.join(RX_TIMEOUT * 2)
        self.assertFalse(waiter.is_alive(), "the receiver slept through its frame")
        self.assertEqual(got[0].arbitration_id, 0x530)

    def test_shutdown_wakes_a_waiting_receiver(self):
        bus = can.Bus(interface="cand", channel="vcan0")
        errors = []

        def wait():
            try:
                bus.recv(None)
            except can.CanOperationError as error:
                errors.append(error)

        waiter = threading.Thread(target=wait)
        waiter.start()
        waiter.join(0.3)
        bus.shutdown()
        waiter.join(RX_TIMEOUT)
        self.assertFalse(waiter.is_alive())
        self.assertIn("shut down", str(errors[0]))

    def test_iteration(self):
        bus = self.bus()
        self.bus("socketcan").send(can.Message(arbitration_id=0x540, is_extended_id=False))
        for msg in bus:
            self.assertEqual(msg.arbitration_id, 0x540)
            break
