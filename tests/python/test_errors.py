"""
Bad input and failures, each a python-can exception with cand's words and
never a ctypes traceback: a closed bus, an unknown channel, a frame too long
for classic CAN, no daemon, no library, a daemon that dies under a bus.
"""

import os
import shutil
import tempfile

import can
from helpers import BUILD, RX_TIMEOUT, BusTest, Daemon, python


class Errors(BusTest):
    def test_send_on_a_closed_bus(self):
        bus = self.bus()
        bus.shutdown()
        with self.assertRaises(can.CanOperationError) as caught:
            bus.send(can.Message(arbitration_id=1))
        self.assertIn("shut down", str(caught.exception))
        with self.assertRaises(can.CanOperationError):
            bus.recv(0)
        with self.assertRaises(can.CanOperationError):
            bus.send_periodic(can.Message(arbitration_id=1), 0.1)
        self.assertEqual(bus.fileno(), -1)
        bus.shutdown()

    def test_unknown_channel(self):
        with self.assertRaises(can.CanInitializationError) as caught:
            can.Bus(interface="cand", channel="vcan99")
        self.assertIn("vcan99", str(caught.exception))
        self.assertEqual(caught.exception.error_code, 19)  # ENODEV, as socketcan

    def test_too_long_for_classic_can(self):
        witness = self.bus("socketcan", fd=True)
        classic = self.bus(channel="vcan1")
        fd_off = self.bus()
        for bus, msg in (
            (classic, can.Message(arbitration_id=0x21, is_extended_id=False, data=bytes(9))),
            (fd_off, can.Message(arbitration_id=0x22, is_extended_id=False, data=bytes(9))),
            (
                fd_off,
                can.Message(arbitration_id=0x23, is_extended_id=False, is_fd=True, data=bytes(12)),
            ),
            (classic, can.Message(arbitration_id=0x24, is_fd=True, data=bytes(2))),
        ):
            with self.subTest(msg=str(msg)):
                with self.assertRaises(can.CanOperationError) as caught:
                    bus.send(msg)
                self.assertTrue(str(caught.exception).startswith("Failed to transmit"))
        self.assertNothing(witness)
        fd_off.send(can.Message(arbitration_id=0x25, is_extended_id=False, data=bytes(8)))
        self.assertEqual(self.recv(witness).arbitration_id, 0x25)

    def test_bad_values(self):
        bus = self.bus()
        for msg in (
            can.Message(arbitration_id=0x20000000),
            can.Message(arbitration_id=-1),
            can.Message(arbitration_id=1, dlc=300),
        ):
            with self.subTest(msg=repr(msg)):
                with self.assertRaises(can.CanOperationError):
                    bus.send(msg)

    def test_standard_id_too_big(self):
        bus = self.bus()
        with self.assertRaises(can.CanOperationError) as caught:
            bus.send(can.Message(arbitration_id=0x800, is_extended_id=False))
        self.assertIn("Failed to transmit", str(caught.exception))

    def test_no_daemon(self):
        missing = "/run/cand-py/nobody-here.sock"
        with self.assertRaises(can.CanInitializationError) as caught:
            can.Bus(interface="cand", channel="vcan0", socket=missing)
        self.assertIn(missing, str(caught.exception))
        # $CAND_SOCKET is the default, as for libcand.
        run = python(
            "import can\n"
            "try:\n"
            "    can.Bus(interface='cand', channel='vcan0')\n"
            "except can.CanInitializationError as e:\n"
            "    print('refused:', e)\n",
            CAND_SOCKET=missing,
        )
        self.assertIn(f"refused: cannot reach cand at {missing}", run.stdout, run.stderr)
        self.assertEqual(run.stderr, "")

    def test_no_library(self):
        """No libcand anywhere: $CAND_LIBRARY, the recorded path and the
        loader's search all tried, and said so."""
        tree = os.path.join(tempfile.mkdtemp(prefix="cand-py-nolib."), "python")
        shutil.copytree(os.path.join(BUILD, "python"), tree)
        with open(os.path.join(tree, "can_cand", "_paths.py"), "w") as f:
            f.write('LIBRARY = "/nonexistent/recorded/libcand.so"\n')
        run = python(
            "import can\n"
            "try:\n"
            "    can.Bus(interface='cand', channel='vcan0')\n"
            "except can.CanInterfaceNotImplementedError as e:\n"
            "    print('refused:', e)\n"
            "print(can.detect_available_configs('cand'))\n",
            PYTHONPATH=tree,
            CAND_LIBRARY="/nonexistent/env/libcand.so.1",
            LD_LIBRARY_PATH=None,
        )
        self.assertEqual(run.stderr, "")
        self.assertIn("refused: cannot load libcand: /nonexistent/env/libcand.so.1", run.stdout)
        self.assertIn("/nonexistent/recorded/libcand.so", run.stdout)
        self.assertIn("libcand.so.1:", run.stdout)
        self.assertTrue(run.stdout.endswith("[]\n"), run.stdout)

    def test_library_from_the_environment(self):
        run = python(
            "import can\n"
            "bus = can.Bus(interface='cand', channel='vcan0')\n"
            "import can_cand._lib as L\n"
            "print(L._path)\n"
            "bus.shutdown()\n",
            CAND_LIBRARY=os.path.join(BUILD, "libcand.so"),
        )
        self.assertEqual(run.stdout.strip(), os.path.join(BUILD, "libcand.so"), run.stderr)

    def test_recv_timeouts(self):
        bus = self.bus()
        self.assertIsNone(bus.recv(0))
        self.assertIsNone(bus.recv(-1))
        self.assertIsNone(bus.recv(0.05))


class NoisyDaemon(BusTest):
    """A daemon that goes away under open buses (as root: our own)."""

    RUN_AS = "root"

    def test_daemon_dies(self):
        with Daemon(
            "dies", "[rule all]\ninterfaces = *\nusers = *\nrights = read send periodic\n"
        ) as d:
            bus = self.bus(socket=d.sock)
            task = bus.send_periodic(can.Message(arbitration_id=0x31), 0.05)
            d.kill()
            with self.assertRaises(can.CanOperationError) as caught:
                for _ in range(100):
                    bus.recv(RX_TIMEOUT)
            self.assertIn("daemon", str(caught.exception))
            with self.assertRaises(can.CanOperationError):
                bus.send(can.Message(arbitration_id=0x32))
            task.stop()
            bus.shutdown()
