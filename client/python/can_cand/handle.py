"""
One libcand connection, shared safely by the threads of a bus.

A cand_t is not thread-safe, and python-can programs routinely receive in
one thread (can.Notifier) while they send from another. So every libcand
call runs under one lock, and nobody ever blocks inside libcand while
holding it: a receiver waits in epoll without the lock and then takes what
came with cand_recv(h, f, 0). A send may meanwhile have read frames into
the handle's queue, where the socket no longer shows them, so a pipe is
kept readable while the handle holds anything. The epoll set of the socket
and that pipe is then readable exactly when there is something to receive:
it is our own wait and what fileno() gives to can.Notifier and asyncio.
"""

import ctypes
import os
import select
import threading
import time

import can

from . import _lib, errors


def socket_path(path):
    """The socket libcand connects to for path (None: $CAND_SOCKET or the
    default), for messages."""
    if path:
        return path
    return os.environ.get("CAND_SOCKET") or "/run/cand.sock"


class Handle:
    """A connected cand_t, its lock and its readiness."""

    def __init__(self, path, kind):
        try:
            lib = self.lib = _lib.load()
        except _lib.LibraryNotFound as error:
            raise can.CanInterfaceNotImplementedError(
                f"{error} ($CAND_LIBRARY may name it)"
            ) from None
        h = ctypes.c_void_p()
        rc = lib.cand_connect(ctypes.byref(h), os.fsencode(path) if path else None)
        if rc < 0:
            err = ctypes.get_errno()
            why = os.strerror(err) if err else errors.strerror(rc)
            raise errors.make(
                rc,
                f"cannot reach cand at {socket_path(path)}",
                f"{why} (is the daemon running? socket= or $CAND_SOCKET " "name another one)",
                kind,
            )
        self.h = h.value
        self.hv = h  # the same, for the prototype-free receive calls
        self.lock = threading.Lock()
        self.closed = False
        # The last take found nothing: wait before asking libcand again.
        self.drained = False
        self.waiters = 0
        self.fileno_used = False
        self._sig = False
        self._rd, self._wr = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._ep = select.epoll()
        self._ep.register(lib.cand_fileno(self.h), select.EPOLLIN)
        self._ep.register(self._rd, select.EPOLLIN)

    def detail(self):
        return _lib.text(self.lib.cand_last_detail(self.h))

    def _level(self):
        """The pipe readable iff the handle holds something (lock held)."""
        want = self.lib.cand_pending(self.h) > 0
        if want == self._sig:
            return
        if want:
            os.write(self._wr, b"x")
        else:
            try:
                os.read(self._rd, 64)
            except BlockingIOError:
                pass
        self._sig = want

    def call(self, what, fn, *args):
        """fn(h, *args) under the lock; its result, or the error raised."""
        with self.lock:
            if self.closed:
                raise errors.closed(what)
            rc = fn(self.h, *args)
            detail = self.detail() if rc < 0 else ""
            self._level()
        if rc < 0:
            raise errors.make(rc, what, detail)
        return rc

    def receiver(self, fn, ref, what):
        """get(timeout): 1 when fn(h, ref, 0) (an unchecked cand_recv or
        cand_recv_event) gave something, 0 when nothing came within timeout
        seconds (None: wait for it). The common case, something already
        queued in a handle nobody else waits on, costs one lock and one
        call; everything else goes the general way."""
        acquire = self.lock.acquire
        release = self.lock.release
        take = self.take
        nothing = _lib.ETIMEOUT

        def get(timeout):
            acquire()
            if self.drained or self._sig or self.fileno_used or self.waiters or self.closed:
                release()
                return take(fn, ref, timeout, what)
            rc = fn(self.hv, ref, 0)
            if rc == 1:
                release()
                return 1
            if rc != nothing:
                detail = self.detail()
                release()
                raise errors.make(rc, what, detail)
            self.drained = True
            release()
            return 0 if timeout == 0 else take(fn, ref, timeout, what)

        return get

    def take(self, fn, ref, timeout, what):
        """get()'s general way."""
        lock = self.lock
        rc = _lib.ETIMEOUT
        with lock:
            if self.closed:
                raise errors.closed(what)
            if not self.drained or timeout == 0:
                rc = fn(self.hv, ref, 0)
                self.drained = rc == _lib.ETIMEOUT
            if self._sig or self.fileno_used or self.waiters:
                self._level()
            if rc != _lib.ETIMEOUT:
                return self._result(rc, what)
            if timeout == 0:
                return 0
            deadline = None if timeout is None else time.monotonic() + timeout
            self.waiters += 1
        try:
            return self._wait(fn, ref, deadline, what)
        finally:
            with lock:
                self.waiters -= 1
                if self.closed and self.waiters == 0:
                    self._close_fds()

    def _wait(self, fn, ref, deadline, what):
        left = None
        while True:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return 0
            try:
                ready = self._ep.poll(left)
            except (ValueError, OSError):
                ready = None  # closed under us: the check below says so
            with self.lock:
                if self.closed:
                    raise errors.closed(what)
                if ready:
                    rc = fn(self.hv, ref, 0)
                    self.drained = rc == _lib.ETIMEOUT
                    self._level()
                    if rc != _lib.ETIMEOUT:
                        return self._result(rc, what)

    def _result(self, rc, what):
        """rc as take() returns it (lock held)."""
        if rc < 0:
            raise errors.make(rc, what, self.detail())
        return rc

    def fileno(self):
        """The epoll descriptor: readable while something can be received."""
        with self.lock:
            if self.closed:
                return -1
            self.fileno_used = True
            self._level()
            return self._ep.fileno()

    def close(self):
        """Closes the connection; the daemon then ends its tasks. A thread
        waiting to receive is woken and told the bus is shut down."""
        with self.lock:
            if self.closed:
                return False
            self.closed = True
            self.lib.cand_close(self.h)
            self.h = self.hv = None
            if self.waiters:
                # The last of them closes the descriptors it waits on.
                os.write(self._wr, b"x")
            else:
                self._close_fds()
        return True

    def _close_fds(self):
        if self._rd < 0:
            return
        self._ep.close()
        os.close(self._rd)
        os.close(self._wr)
        self._rd = self._wr = -1
