"""
What a cand bus offers beyond python-can's BusABC: the bus's health
(state, error counters, bit timing, statistics), its configuration and
restart, the kernel's drop count, and bus events in order with the frames.
CandBus mixes this in; it needs the bus's _handle, channel, _ev and
_get_event.
"""

import ctypes
import time

import can

from . import _lib, errors
from .events import BusEvent, BusStatus, Configured, config_dict

_RANK = {can.BusState.ACTIVE: 0, can.BusState.PASSIVE: 1, can.BusState.ERROR: 2}


def list_interfaces(handle):
    """(name, up, hardware) of every CAN interface cand serves."""
    out = ctypes.POINTER(_lib.Iface)()
    n = handle.call("cannot list the interfaces", handle.lib.cand_list, ctypes.byref(out))
    try:
        return [(_lib.text(out[i].name), bool(out[i].up), bool(out[i].hardware)) for i in range(n)]
    finally:
        _lib.free(out)


class HealthMixin:
    """cand's extras on a bus; see the README's python section."""

    def _statuses(self, ifname):
        out = ctypes.POINTER(_lib.BusState)()
        n = self._handle.call(
            "Failed to read the bus state",
            self._handle.lib.cand_bus_state,
            ifname.encode() if ifname else None,
            ctypes.byref(out),
        )
        try:
            return [BusStatus.from_c(out[i]) for i in range(n)]
        finally:
            _lib.free(out)

    def _bus_state(self):
        """python-can's BusState of the channel; on "" the worst of the
        interfaces that are up (ERROR when none is)."""
        states = [s.bus_state for s in self._statuses(self.channel or None) if s.up]
        return max(states, key=_RANK.get) if states else can.BusState.ERROR

    def bus_status(self, channel=None):
        """The state, error counters, bit timing and statistics of channel
        (default: this bus's) as a BusStatus; on "" a list of them all."""
        name = self.channel if channel is None else channel
        statuses = self._statuses(name or None)
        return statuses[0] if name else statuses

    @property
    def kernel_drops(self):
        """Frames the kernel dropped for this bus so far."""
        handle = self._handle
        with handle.lock:
            if handle.closed:
                raise errors.closed("kernel_drops")
            return handle.lib.cand_kernel_drops(handle.h)

    def configure(
        self,
        channel=None,
        bitrate=None,
        sample_point=None,
        data_bitrate=None,
        data_sample_point=None,
        restart_ms=None,
        listen_only=None,
        fd=None,
        up=None,
    ):
        """Changes an interface (default: this bus's) as `canctl set` does,
        and returns what it is now (Configured); needs cand's configure
        right. Sample points are fractions (0.875). An interface that was up
        is taken down for it and brought back up."""
        name = self._named(channel, "configure()")
        chg = _lib.BusChange()
        lib = self._handle.lib
        lib.cand_bus_change_init(ctypes.byref(chg))
        if bitrate:
            chg.bitrate = int(bitrate)
        if sample_point:
            chg.sample_point = int(round(sample_point * 1000))
        if data_bitrate:
            chg.data_bitrate = int(data_bitrate)
        if data_sample_point:
            chg.data_sample_point = int(round(data_sample_point * 1000))
        if restart_ms is not None:
            chg.restart_ms = int(restart_ms)
        for flag, value in ((_lib.CTRLMODE_LISTEN_ONLY, listen_only), (_lib.CTRLMODE_FD, fd)):
            if value is not None:
                chg.ctrlmode_mask |= flag
                chg.ctrlmode_flags |= flag if value else 0
        if up is not None:
            chg.up = 1 if up else 0
        res = _lib.BusConfigured()
        self._handle.call(
            f"Failed to configure {name}",
            lib.cand_configure,
            name.encode(),
            ctypes.byref(chg),
            ctypes.byref(res),
        )
        return Configured(
            channel=name,
            cycled=bool(res.cycled),
            up=bool(res.up),
            config=config_dict(res.config) if res.controller else None,
        )

    def restart(self, channel=None):
        """A manual restart after bus-off (CanOperationError with cand's
        reason when there is nothing to restart)."""
        name = self._named(channel, "restart()")
        self._handle.call(f"Failed to restart {name}", self._handle.lib.cand_restart, name.encode())

    def _named(self, channel, what):
        name = channel or self.channel
        if not name:
            raise ValueError(f'{what} needs an interface on the "" channel')
        return name

    def subscribe(self, channel=None):
        """Also deliver the state, link and config events of channel (None:
        every CAN interface) to recv_event(); a bus gets its own anyway."""
        self._handle.call(
            "Failed to subscribe",
            self._handle.lib.cand_subscribe,
            channel.encode() if channel else None,
        )

    def unsubscribe(self):
        self._handle.call("Failed to unsubscribe", self._handle.lib.cand_unsubscribe)

    def recv_event(self, timeout=None):
        """The next frame (a can.Message) or BusEvent, in the order they
        happened; None when nothing came within timeout seconds. recv()
        returns frames only and passes the events by."""
        if timeout is not None and timeout < 0:
            timeout = 0
        deadline = None if timeout is None else time.monotonic() + timeout
        left = timeout
        ev = self._ev
        while self._get_event(left):
            if ev.type != _lib.EVENT_FRAME:
                return BusEvent.from_c(ev)
            msg = self._ev_read()
            if self._is_filtered or self._matches_filters(msg):
                return msg
            if deadline is not None:
                left = max(0.0, deadline - time.monotonic())
        return None
