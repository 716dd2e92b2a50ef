"""
send_periodic() on cand's kernel BCM tasks: the kernel keeps the time, so
the frames go out on schedule however busy this process is, and they stop
when the task, the bus or the process ends.
"""

import ctypes

import can
from can.broadcastmanager import (
    LimitedDurationCyclicSendTaskABC,
    ModifiableCyclicTaskABC,
    RestartableCyclicTaskABC,
)

from . import _lib, errors
from .frames import frames_of

_US = 1_000_000
# The connection is gone, and every task with it.
_GONE = (_lib.ESHUTDOWN, _lib.EDISCONNECTED)


def _micros(seconds, what):
    us = int(round(seconds * _US))
    if us <= 0:
        raise ValueError(f"{what} must be positive, not {seconds!r}")
    return us


class CandCyclicTask(
    LimitedDurationCyclicSendTaskABC, ModifiableCyclicTaskABC, RestartableCyclicTaskABC
):
    """A cand periodic task, as the socketcan backend's CyclicSendTask:
    a duration, a sequence of messages with one id, modify_data() keeping
    the timing, stop() and start()."""

    def __init__(self, bus, messages, period, duration=None, autostart=True):
        # Checks one id and one channel; sets messages, period, duration.
        super().__init__(messages, period, duration)
        self._bus = bus
        self._handle = bus._handle
        period_us = _micros(period, "the period")
        duration_us = _micros(duration, "the duration") if duration else 0
        array = frames_of(self.messages, bus.channel == "", "Failed to start a periodic task")
        out = ctypes.c_void_p()
        lib = self._handle.lib
        self._handle.call(
            "Failed to start a periodic task",
            lib.cand_task_start,
            ctypes.addressof(array),
            len(self.messages),
            period_us,
            duration_us,
            0 if autostart else _lib.TASK_PAUSED,
            ctypes.byref(out),
        )
        self._task = out.value
        #: cand's id of the task, as in its events and task lists
        self.task_id = lib.cand_task_id(self._task)
        bus._adopt(self)

    def _on_task(self, what, fn, *args):
        handle = self._handle
        with handle.lock:
            if handle.closed:
                raise errors.closed(what)
            rc = fn(self._task, *args)
            detail = handle.detail() if rc < 0 else ""
        if rc < 0:
            raise errors.make(rc, what, detail)

    def stop(self):
        """Stops sending; start() sends again. Nothing to do once the bus
        is shut down or the daemon gone: its tasks ended with them."""
        if self._handle.closed or self._bus._closing:
            return
        try:
            self._on_task("Failed to stop the periodic task", self._handle.lib.cand_task_stop)
        except can.CanOperationError as error:
            if error.cand_error not in _GONE:
                raise

    def start(self):
        """Starts a stopped or expired task afresh (a running one goes on)."""
        self._on_task("Failed to start the periodic task", self._handle.lib.cand_task_resume)

    def modify_data(self, messages):
        """New data for the same number of messages with the same id; the
        period and the place in the cycle are kept."""
        messages = self._check_and_convert_messages(messages)
        self._check_modified_messages(messages)
        array = frames_of(messages, self._bus.channel == "", "Failed to modify the periodic task")
        self._on_task(
            "Failed to modify the periodic task",
            self._handle.lib.cand_task_modify,
            ctypes.addressof(array),
            len(messages),
        )
        self.messages = messages

    def _free(self):
        """After the connection is closed: frees the C handle only."""
        if self._task is not None:
            self._handle.lib.cand_task_free(self._task)
            self._task = None
