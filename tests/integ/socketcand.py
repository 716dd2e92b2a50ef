#!/usr/bin/python3
"""python-can's socketcand interface, unmodified, against cand.

    /usr/bin/python3 tests/integ/socketcand.py [HOST [PORT]]

Run by run-all.sh in the VM against the main run's daemon, whose
[socketcand] front-end listens on 127.0.0.1:29536 (conf/socketcand.conf). Debian's
python3-can (4.1) is the client; can-utils (cansend, candump) and raw
CAN_RAW sockets are the other side of the bus. Prints PASS/FAIL lines and
"socketcand: N passed, N failed" last.
"""
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback

import can

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 29536
IFACE = "vcan0"
TIMEOUT = 2.0
CAN_EFF_FLAG = 0x80000000

results = {"passed": 0, "failed": 0}


def bus():
    return can.Bus(interface="socketcand", channel=IFACE, host=HOST, port=PORT)


def receivers(dev):
    """CAN receivers the kernel has on dev, as util_can_receivers()."""
    n = 0
    for kind in ("all", "fil", "inv", "sff", "eff", "err"):
        try:
            with open("/proc/net/can/rcvlist_" + kind) as f:
                n += sum(1 for line in f if line.split()[:1] == [dev])
        except OSError:
            pass
    return n


def raw_socket():
    s = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
    s.bind((IFACE,))
    return s


def raw_send(s, can_id, data, extended=False):
    if extended:
        can_id |= CAN_EFF_FLAG
    s.send(struct.pack("=IB3x8s", can_id, len(data), bytes(data)))


def recv_id(b, can_id):
    """The next frame of can_id within TIMEOUT, passing others."""
    end = time.monotonic() + TIMEOUT
    while time.monotonic() < end:
        m = b.recv(timeout=max(0.0, end - time.monotonic()))
        if m is not None and m.arbitration_id == can_id:
            return m
    raise AssertionError("no frame 0x%X within %.1f s" % (can_id, TIMEOUT))


class Candump:
    """candump -L on IFACE, started only once the kernel lists it."""

    def __init__(self, filt):
        before = receivers(IFACE)
        self.p = subprocess.Popen(
            ["candump", "-L", "-T", "3000", IFACE + "," + filt],
            stdout=subprocess.PIPE, text=True)
        end = time.monotonic() + TIMEOUT
        while receivers(IFACE) <= before:
            assert time.monotonic() < end, "candump did not bind in time"
            time.sleep(0.01)

    def lines(self, n):
        out = []
        while len(out) < n:
            line = self.p.stdout.readline()
            assert line, "candump ended after %r" % out
            out.append(line.split()[2])
        self.p.kill()
        self.p.wait()
        return out


def test_receive():
    b = bus()
    try:
        subprocess.run(["cansend", IFACE, "123#1122334455667788"], check=True)
        m = recv_id(b, 0x123)
        assert bytes(m.data) == bytes.fromhex("1122334455667788"), m
        assert m.dlc == 8, m
        assert abs(m.timestamp - time.time()) < 10, m
        subprocess.run(["cansend", IFACE, "7FF#"], check=True)
        m = recv_id(b, 0x7FF)
        assert m.dlc == 0 and len(m.data) == 0, m
    finally:
        b.shutdown()


def test_receive_extended():
    b = bus()
    try:
        subprocess.run(["cansend", IFACE, "1ABCDEF0#CAFE"], check=True)
        m = recv_id(b, 0x1ABCDEF0)
        assert bytes(m.data) == b"\xca\xfe", m
        subprocess.run(["cansend", IFACE, "00000005#01"], check=True)
        m = recv_id(b, 0x5)
        assert bytes(m.data) == b"\x01", m
    finally:
        b.shutdown()


def test_send():
    b = bus()
    try:
        dump = Candump("321:7FF,1ABCDEF0:1FFFFFFF,1234:1FFFFFFF")
        b.send(can.Message(arbitration_id=0x321, data=[1, 2, 0xA],
                           is_extended_id=False))
        b.send(can.Message(arbitration_id=0x1ABCDEF0, data=[],
                           is_extended_id=True))
        # An extended id over 0x7FF stays extended however it is printed.
        b.send(can.Message(arbitration_id=0x1234, data=[0xFF],
                           is_extended_id=True))
        got = dump.lines(3)
        assert got == ["321#01020A", "1ABCDEF0#", "00001234#FF"], got
    finally:
        b.shutdown()


def test_error_frames():
    """socketcand reports error frames as elements python-can passes by."""
    b = bus()
    try:
        subprocess.run(["cansend", IFACE, "20000004#0004000000000000"],
                       check=True)
        subprocess.run(["cansend", IFACE, "124#AA"], check=True)
        m = b.recv(timeout=TIMEOUT)
        assert m is not None and m.arbitration_id == 0x124, m
        assert bytes(m.data) == b"\xaa", m
        # And it can still send after it.
        dump = Candump("125:7FF")
        b.send(can.Message(arbitration_id=0x125, data=[5],
                           is_extended_id=False))
        assert dump.lines(1) == ["125#05"]
    finally:
        b.shutdown()


def test_sequence():
    """Twenty frames from a raw socket, every one, in order."""
    b = bus()
    s = raw_socket()
    try:
        for i in range(20):
            raw_send(s, 0x130, [i, 0xC0])
            time.sleep(0.005)
        for i in range(20):
            m = recv_id(b, 0x130)
            assert bytes(m.data) == bytes([i, 0xC0]), (i, m)
    finally:
        s.close()
        b.shutdown()


def test_connect_while_busy():
    """rawmode's ok must come alone while frames already flow."""
    stop = threading.Event()

    def traffic():
        s = raw_socket()
        while not stop.is_set():
            try:
                raw_send(s, 0x555, [0x55] * 8)
            except OSError:
                pass
            time.sleep(0.0005)
        s.close()

    t = threading.Thread(target=traffic)
    t.start()
    try:
        for i in range(10):
            b = bus()  # raises CanError if the ok came with a frame
            try:
                m = recv_id(b, 0x555)
                assert bytes(m.data) == b"\x55" * 8, (i, m)
            finally:
                b.shutdown()
    finally:
        stop.set()
        t.join()


def run(test):
    try:
        test()
    except Exception:
        results["failed"] += 1
        print("FAIL: socketcand.py %s" % test.__name__)
        traceback.print_exc(file=sys.stdout)
    else:
        results["passed"] += 1
        print("PASS: socketcand.py %s" % test.__name__)
    sys.stdout.flush()


def main():
    for test in (test_receive, test_receive_extended, test_send,
                 test_error_frames, test_sequence, test_connect_while_busy):
        run(test)
    print("socketcand: %d passed, %d failed" % (results["passed"],
                                                 results["failed"]))
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
