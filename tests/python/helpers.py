"""
What the python-can-cand tests share: buses that shut down with the test,
field-by-field message comparison, subprocesses as other users, kernel
receiver counts, and daemons of their own (tests/integ/start-daemon.sh).

The environment comes from tests/python/run.sh: CAND_SOCKET (the daemon
run-all.sh started, everyone may read, send and use periodic tasks),
BUILDDIR, PYTHONPATH=BUILDDIR/python.
"""

import contextlib
import os
import signal
import subprocess
import tempfile
import time
import unittest

import can

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("BUILDDIR", os.path.join(REPO, "build"))
PYTHON = "/usr/bin/python3"
# An expected frame may take this long; absence is watched this long.
RX_TIMEOUT = 2.0
SETTLE = 0.2

FIELDS = (
    "arbitration_id",
    "is_extended_id",
    "is_remote_frame",
    "is_error_frame",
    "is_fd",
    "bitrate_switch",
    "error_state_indicator",
    "dlc",
    "data",
    "channel",
    "is_rx",
    "timestamp",
)


def fields(msg, skip=()):
    return {f: getattr(msg, f) for f in FIELDS if f not in skip}


class BusTest(unittest.TestCase):
    """A test of buses; RUN_AS says which group of run.py runs it."""

    RUN_AS = "user"

    def bus(self, interface="cand", channel="vcan0", **kwargs):
        bus = can.Bus(interface=interface, channel=channel, **kwargs)
        self.addCleanup(bus.shutdown)
        return bus

    def recv(self, bus, timeout=RX_TIMEOUT):
        msg = bus.recv(timeout)
        self.assertIsNotNone(msg, f"nothing received on {bus}")
        return msg

    def assertNothing(self, bus, timeout=SETTLE):
        msg = bus.recv(timeout)
        self.assertIsNone(msg, f"{bus} received {msg}")

    def assertSameFields(self, got, want, skip=()):
        self.assertEqual(fields(got, skip), fields(want, skip))

    def drain(self, *buses):
        for bus in buses:
            while bus.recv(0) is not None:
                pass


def env(**extra):
    e = dict(os.environ)
    e.setdefault("PYTHONPATH", os.path.join(BUILD, "python"))
    e.update({k: v for k, v in extra.items() if v is not None})
    for k in [k for k, v in extra.items() if v is None]:
        e.pop(k, None)
    return e


def as_user(user, argv):
    """argv run as user (root only), with the user's groups."""
    if user is None or os.geteuid() != 0:
        return argv
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--", *argv]


def python(code, user=None, timeout=60, **extra):
    """/usr/bin/python3 -c code; the finished process (stdout, stderr)."""
    return subprocess.run(
        as_user(user, [PYTHON, "-c", code]),
        env=env(**extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def spawn(argv, user=None, **extra):
    """A background process; its output in .out (a file) when it ends."""
    out = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(
        as_user(user, argv),
        env=env(**extra),
        stdout=out,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    proc.out = out
    return proc


def output(proc):
    proc.out.seek(0)
    return proc.out.read()


def stop(proc, sig=signal.SIGTERM, timeout=10):
    """Ends proc (and its children); its exit status."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


def receivers(ifname):
    """CAN_RAW receivers the kernel has on ifname: a listener is bound once
    this went up."""
    n = 0
    for name in ("all", "fil", "inv", "sff", "eff", "err"):
        with contextlib.suppress(OSError):
            with open(f"/proc/net/can/rcvlist_{name}") as f:
                n += sum(1 for line in f if line.split()[:1] == [ifname])
    return n


def wait_receivers(ifname, more_than, proc=None, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if receivers(ifname) > more_than:
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


class Daemon:
    """A cand of our own with config text, as run-all.sh starts its own
    (the user "cand", CAP_NET_ADMIN only). Root only."""

    def __init__(self, name, config):
        self.dir = f"/run/cand-py/{name}"
        self.sock = f"{self.dir}/cand.sock"
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "cand.conf")
        with open(self.conf, "w") as f:
            f.write(config)
        os.chmod(self.conf, 0o644)
        self.log = os.path.join(self.dir, "cand.log")
        self.proc = None

    def __enter__(self):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.sock)
        logf = open(self.log, "w")
        self.proc = subprocess.Popen(
            [os.path.join(REPO, "tests/integ/start-daemon.sh"), BUILD, self.sock, self.conf],
            stdout=logf,
            stderr=logf,
            start_new_session=True,
        )
        logf.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.proc.poll() is None:
            if os.path.exists(self.sock):
                os.chmod(self.sock, 0o666)
                return self
            time.sleep(0.05)
        raise RuntimeError(f"cand did not start: {self.read_log()}")

    def read_log(self):
        with open(self.log) as f:
            return f.read()

    def kill(self, sig=signal.SIGTERM):
        return stop(self.proc, sig)

    def __exit__(self, *exc):
        self.kill()
