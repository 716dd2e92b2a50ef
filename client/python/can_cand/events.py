"""
What cand knows about a bus beyond its frames, as plain Python objects:
BusStatus (cand_bus_state), BusEvent (cand_recv_event), Configured
(cand_configure), and the mapping of CAN states to python-can's BusState.
"""

from dataclasses import dataclass, field
from typing import Optional

import can

from . import _lib
from .frames import ifname

_STATE_NAMES = {
    _lib.STATE_NONE: "not applicable",
    _lib.STATE_ERROR_ACTIVE: "ERROR-ACTIVE",
    _lib.STATE_ERROR_WARNING: "ERROR-WARNING",
    _lib.STATE_ERROR_PASSIVE: "ERROR-PASSIVE",
    _lib.STATE_BUS_OFF: "BUS-OFF",
    _lib.STATE_STOPPED: "STOPPED",
    _lib.STATE_SLEEPING: "SLEEPING",
}


def state_name(code):
    return _STATE_NAMES.get(code, f"state {code}")


def bus_state_of(code, up):
    """python-can's three states: a controller that still takes part in
    the bus is ACTIVE (ERROR-WARNING included), ERROR-PASSIVE is PASSIVE,
    and one that cannot send (bus-off, stopped, asleep, or the link down)
    is ERROR. A vcan has no controller state: ACTIVE while it is up."""
    if not up or code in (_lib.STATE_BUS_OFF, _lib.STATE_STOPPED, _lib.STATE_SLEEPING):
        return can.BusState.ERROR
    if code == _lib.STATE_ERROR_PASSIVE:
        return can.BusState.PASSIVE
    return can.BusState.ACTIVE


def config_dict(c):
    """struct cand_bus_config as a dict, sample points as fractions."""
    return {
        "bitrate": c.bitrate,
        "sample_point": c.sample_point / 1000.0,
        "data_bitrate": c.data_bitrate,
        "data_sample_point": c.data_sample_point / 1000.0,
        "restart_ms": c.restart_ms,
        "ctrlmode": c.ctrlmode,
        "ctrlmode_supported": c.ctrlmode_supported,
        "clock_hz": c.clock_hz,
    }


@dataclass(frozen=True)
class BusStatus:
    """One interface as `canctl state` shows it."""

    channel: str
    up: bool
    running: bool
    hardware: bool
    kind: str
    mtu: int
    state: str  # "ERROR-ACTIVE", ..., "not applicable"
    bus_state: can.BusState
    from_error_frames: bool  # a vcan's state as its error frames said
    tx_errors: Optional[int]
    rx_errors: Optional[int]
    config: Optional[dict]  # bit timing and modes; None without a controller
    device: Optional[dict]  # bus_errors, error_warning, ..., restarts
    stats: Optional[dict]  # rx_packets, tx_packets, ..., rx_over_errors
    busoff_policy: str

    @classmethod
    def from_c(cls, s):
        link = s.link
        counters = bool(s.has_error_counters)
        return cls(
            channel=ifname(link.name),
            up=bool(link.up),
            running=bool(s.running),
            hardware=bool(link.hardware),
            kind=ifname(link.kind),
            mtu=link.mtu,
            state=state_name(s.state),
            bus_state=bus_state_of(s.state, link.up),
            from_error_frames=bool(s.state_from_error_frames),
            tx_errors=s.tx_errors if counters else None,
            rx_errors=s.rx_errors if counters else None,
            config=config_dict(s.config) if s.controller else None,
            device={k: getattr(s.dev, k) for k, _ in s.dev._fields_} if s.controller else None,
            stats={k: getattr(s.stats, k) for k, _ in s.stats._fields_} if s.has_stats else None,
            busoff_policy=_lib.text(s.busoff_policy),
        )


@dataclass(frozen=True)
class Configured:
    """What cand_configure() did: cycled means the interface was up, so
    cand took it down, changed it and brought it up again."""

    channel: str
    cycled: bool
    up: bool
    config: Optional[dict]


_KINDS = {
    _lib.EVENT_TASK_EXPIRED: "task_expired",
    _lib.EVENT_MONITOR_CHANGED: "monitor_changed",
    _lib.EVENT_MONITOR_TIMEOUT: "monitor_timeout",
    _lib.EVENT_STATE: "state",
    _lib.EVENT_LINK: "link",
    _lib.EVENT_CONFIG: "config",
    _lib.EVENT_DROPS: "drops",
    _lib.EVENT_RIGHTS: "rights",
}


@dataclass(frozen=True)
class BusEvent:
    """Something that happened on the bus, in order among its frames.

    kind is "state", "link", "config", "drops", "rights" or
    "task_expired"; info holds what that kind says:
      state:  state, previous (names), bus_state, tx_errors, rx_errors,
              from_error_frames
      link:   up, running, removed, appeared, rebound, ifindex
      config: config, previous (dicts as BusStatus.config), mtu,
              previous_mtu
      drops:  kernel_drops (in all), dropped (since the last report),
              slow_reader (cand had stopped reading for this client)
      task_expired: task_id
    """

    kind: str
    channel: str
    detail: str
    timestamp: Optional[float]  # the kernel's, for task events
    info: dict = field(default_factory=dict)

    @classmethod
    def from_c(cls, ev):
        kind = _KINDS.get(ev.type, f"event {ev.type}")
        info = {}
        stamp = None
        if ev.type == _lib.EVENT_STATE:
            st = ev.state
            info = {
                "state": state_name(st.state),
                "previous": state_name(st.previous),
                "bus_state": bus_state_of(st.state, True),
                "tx_errors": st.tx_errors if st.has_error_counters else None,
                "rx_errors": st.rx_errors if st.has_error_counters else None,
                "from_error_frames": bool(st.from_error_frames),
            }
        elif ev.type == _lib.EVENT_LINK:
            info = {k: getattr(ev.link, k) for k, _ in ev.link._fields_}
            info = {k: (v if k == "ifindex" else bool(v)) for k, v in info.items()}
        elif ev.type == _lib.EVENT_CONFIG:
            cf = ev.config
            info = {
                "config": config_dict(cf.config) if cf.controller else None,
                "previous": config_dict(cf.previous) if cf.controller else None,
                "mtu": cf.mtu,
                "previous_mtu": cf.previous_mtu,
            }
        elif ev.type == _lib.EVENT_DROPS:
            dr = ev.drops
            info = {
                "kernel_drops": dr.kernel_drops,
                "dropped": dr.dropped,
                "slow_reader": bool(dr.slow_reader),
            }
        elif ev.type == _lib.EVENT_TASK_EXPIRED:
            info = {"task_id": ev.id}
            stamp = ev.frame.timestamp_ns / 1e9 if ev.frame.timestamp_ns else None
        return cls(
            kind=kind,
            channel=ifname(ev.ifname),
            detail=_lib.text(ev.detail),
            timestamp=stamp,
            info=info,
        )
