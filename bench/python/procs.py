"""
The processes of one bench_python phase: the sender (a raw CAN socket), the
python-can receivers, the drainer that prices recv() alone, and the cand
daemon a cand phase runs against; phase() runs one and collects what each
reports through a pipe.
"""

import contextlib
import math
import multiprocessing as mp
import os
import resource
import signal
import socket
import struct
import subprocess
import time

CAN_ID = 0x321
RX_POLL = 0.1
RX_IDLE_POLLS = 10  # 1 s of nothing once the sender is done
QUANTUM = 0.0005
SO_RCVBUFFORCE = 33
CAN_FRAME = struct.Struct("=IB3xII")  # struct can_frame: id, len, seq, tag
PAYLOAD = struct.Struct("<II")


def now():
    return time.monotonic()


def cpu_self():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cpu_of(pid):
    """CPU time of another process, s (schedstat: ns resolution)."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except OSError:
        return math.nan


# ---- the processes of a phase ----


def sender(ifname, n, rate, max_s, tag, go, done, out):
    """Writes up to n frames: as fast as it can (rate 0), or rate per
    second, what is due every QUANTUM; stops after max_s either way."""
    s = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
    s.setsockopt(socket.SOL_CAN_RAW, socket.CAN_RAW_FILTER, b"")  # send only
    s.bind((ifname,))
    buf = bytearray(CAN_FRAME.size)
    pack, send = CAN_FRAME.pack_into, s.send
    sent = enobufs = 0
    go.wait()
    c0, t0 = cpu_self(), now()
    end = t0 + max_s
    while sent < n:
        due = n if rate == 0 else min(n, int((now() - t0) * rate) + 1)
        while sent < due:
            pack(buf, 0, CAN_ID, 8, sent, tag)
            try:
                send(buf)
                sent += 1
            except OSError:  # ENOBUFS: the queue is full, try again
                enobufs += 1
                time.sleep(0.0001)
            if rate == 0 and sent % 256 == 0 and now() >= end:
                break
        t = now()
        if t >= end:
            break
        if rate:
            time.sleep(max(0.0, QUANTUM - (t - t0) % QUANTUM))
    t1 = now()
    out.send({"sent": sent, "t0": t0, "t1": t1, "enobufs": enobufs, "cpu": cpu_self() - c0})
    done.set()


def receiver(kind, ifname, sock, n, tag, ready, go, done, out):
    """Plain python-can: bus.recv(0.1) until everything came, or 1 s of
    nothing after the sender finished."""
    import can  # pylint: disable=import-outside-toplevel

    try:
        if kind == "cand":
            bus = can.Bus(interface="cand", channel=ifname, socket=sock)
        else:
            bus = can.Bus(interface="socketcan", channel=ifname)
    except Exception as error:  # pylint: disable=broad-except
        out.send({"error": str(error)})
        ready.send(0)
        return
    ready.send(1)
    seen = bytearray(n)
    got = dups = reorder = foreign = idle = 0
    last = -1
    t_first = t_stamp = None
    n_stamp = 0
    recv, unpack = bus.recv, PAYLOAD.unpack_from
    go.wait()
    c0 = cpu_self()
    while got < n:
        msg = recv(RX_POLL)
        if msg is None:
            if done.is_set():
                idle += 1
                if idle >= RX_IDLE_POLLS:
                    break
            continue
        idle = 0
        if msg.arbitration_id != CAN_ID or len(msg.data) != 8:
            foreign += 1
            continue
        seq, t = unpack(msg.data)
        if t != tag or seq >= n:
            foreign += 1
            continue
        if seen[seq]:
            dups += 1
            continue
        seen[seq] = 1
        got += 1
        if seq < last:
            reorder += 1
        last = seq
        if got == 1:
            t_first = now()
        elif got % 256 == 0:
            t_stamp, n_stamp = now(), got
    cpu = cpu_self() - c0
    drops = bus.kernel_drops if kind == "cand" else math.nan
    bus.shutdown()
    rate = (n_stamp - 1) / (t_stamp - t_first) if n_stamp > 1 and t_stamp > t_first else math.nan
    out.send(
        {
            "received": got,
            "dups": dups,
            "reorder": reorder,
            "foreign": foreign,
            "rate": rate,
            "cpu": cpu,
            "drops": drops,
        }
    )


def drainer(kind, ifname, sock, n, tag, ready, go, done, out):
    """The cost of recv() itself: reads nothing until the sender is done,
    then takes what waits with recv(0), no wakeups in between. The
    socketcan bus gets cand's receive buffer (8 MiB) so that all of it
    waits in the kernel."""
    import can  # pylint: disable=import-outside-toplevel

    if kind == "cand":
        bus = can.Bus(interface="cand", channel=ifname, socket=sock)
    else:
        bus = can.Bus(interface="socketcan", channel=ifname)
        bus.socket.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
    ready.send(1)
    go.wait()
    done.wait()
    time.sleep(0.5)
    recv = bus.recv
    got = 0
    c0 = cpu_self()
    while recv(0) is not None:
        got += 1
    cpu = cpu_self() - c0
    bus.shutdown()
    out.send(
        {"received": got, "dups": 0, "reorder": 0, "rate": math.nan, "cpu": cpu, "drops": math.nan}
    )


class Daemon:
    """BUILD/cand for a phase, as bench_can starts its own."""

    def __init__(self, build, sock, log, nice=0):
        self.sock = sock
        with contextlib.suppress(FileNotFoundError):
            os.unlink(sock)
        with open(log, "a") as out:
            self.proc = subprocess.Popen(
                [os.path.join(build, "cand"), "-f", "-s", sock],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=(lambda: os.nice(nice)) if nice else None,
            )
        deadline = now() + 10
        while not os.path.exists(sock):
            if self.proc.poll() is not None or now() > deadline:
                self.stop()
                raise RuntimeError(f"cand did not start (see {log})")
            time.sleep(0.05)
        time.sleep(0.1)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def wait_for(pipe, procs, deadline):
    """What pipe brings before deadline, or None once all procs are gone."""
    while now() < deadline:
        if pipe.poll(0.5):
            return pipe.recv()
        if not any(p.is_alive() for p in procs):
            return pipe.recv() if pipe.poll(0) else None
    return None


def split_cpus():
    """(the sender's CPU, everyone else's): a paced sender stands for a bus,
    whose frames come whatever the host does, so it gets a CPU of its own
    (on vcan the kernel delivers every frame in the sender's syscall, so its
    CPU is the bus's). Not SCHED_FIFO: the receivers it wakes would then be
    placed on its CPU and wait for it."""
    cpus = sorted(os.sched_getaffinity(0))
    return ({cpus[-1]}, set(cpus[:-1])) if len(cpus) > 1 else (None, None)


def pin(pid, cpus):
    if cpus:
        os.sched_setaffinity(pid, cpus)


def phase(args, kind, n_rx, n, rate, max_s, tag, target=receiver, nice=0):
    """Runs one phase; returns (receivers' results, sender's, daemon CPU s).
    A paced phase gives the sender a CPU of its own (split_cpus); nice is
    the daemon's."""
    ctx = mp.get_context("fork")
    bus_cpu, rest = split_cpus() if rate else (None, None)
    daemon = Daemon(args.build, args.socket, args.log, nice) if kind == "cand" else None
    if daemon:
        pin(daemon.proc.pid, rest)
    go, done = ctx.Event(), ctx.Event()
    procs, pipes = [], []
    try:
        for _ in range(n_rx):
            ready_r, ready_w = ctx.Pipe(False)
            res_r, res_w = ctx.Pipe(False)
            p = ctx.Process(
                target=target,
                args=(kind, args.iface, args.socket, n, tag, ready_w, go, done, res_w),
            )
            p.start()
            pin(p.pid, rest)
            procs.append(p)
            pipes.append(res_r)
            if not ready_r.poll(60):
                raise RuntimeError(f"{kind} receiver hangs opening its bus")
            ready_r.recv()  # opened, or its error is in its result
        send_r, send_w = ctx.Pipe(False)
        sp = ctx.Process(target=sender, args=(args.iface, n, rate, max_s, tag, go, done, send_w))
        sp.start()
        pin(sp.pid, bus_cpu)
        procs.append(sp)
        time.sleep(0.2)
        cpu0 = cpu_of(daemon.proc.pid) if daemon else math.nan
        go.set()
        hard = now() + max_s + 120
        sent = wait_for(send_r, [sp], hard)
        results = [wait_for(r, procs[:-1], hard) or {"error": "timed out"} for r in pipes]
        dcpu = (cpu_of(daemon.proc.pid) - cpu0) if daemon else math.nan
    finally:
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.kill()
                p.join()
        if daemon:
            daemon.stop()
    if sent is None:
        raise RuntimeError("the sender hung")
    return results, sent, dcpu
