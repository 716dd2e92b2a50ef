"""
libcand through ctypes: the C structures of cand.h, the function
prototypes, and where the library is found.

The protocol has one implementation, libcand's; this module only mirrors
its public header. tests/python/test_layout.py compiles cand.h and checks
every size and offset here against the C compiler's.
"""

import ctypes
import os
from ctypes import (
    POINTER,
    Structure,
    Union,
    c_char,
    c_char_p,
    c_int,
    c_int64,
    c_size_t,
    c_uint,
    c_uint8,
    c_uint32,
    c_uint64,
    c_void_p,
)

IFNAMSIZ = 16
MAX_DLEN = 64

# enum cand_error
OK = 0
EINVAL = -1
EBADMSG = -2
ENODEV = -3
ENETDOWN = -4
ETXFULL = -5
ENOTOPEN = -6
EALREADY = -7
EPERM = -8
EUNSUPP = -9
ELIMIT = -10
EIO = -11
EINTERNAL = -12
ESHUTDOWN = -13
ESTATE = -20
ETIMEOUT = -100
ECONNECT = -101
EDISCONNECTED = -102
ENOMEM = -103
ESYS = -104
EPROTO = -105
ERECONNECTED = -106

# CAND_FRAME_*
FRAME_EXTENDED = 0x01
FRAME_REMOTE = 0x02
FRAME_ERROR = 0x04
FRAME_FD = 0x08
FRAME_BRS = 0x10
FRAME_ESI = 0x20
FRAME_OWN = 0x40
FRAME_LOCAL = 0x80

# enum cand_filter_kind
FILTER_ANY = 0
FILTER_STANDARD = 1
FILTER_EXTENDED = 2

TASK_PAUSED = 0x01

# enum cand_state
STATE_NONE = 0
STATE_ERROR_ACTIVE = 1
STATE_ERROR_WARNING = 2
STATE_ERROR_PASSIVE = 3
STATE_BUS_OFF = 4
STATE_STOPPED = 5
STATE_SLEEPING = 6

CTRLMODE_LISTEN_ONLY = 0x02
CTRLMODE_FD = 0x20

# enum cand_event_type
EVENT_FRAME = 1
EVENT_TASK_EXPIRED = 2
EVENT_MONITOR_CHANGED = 3
EVENT_MONITOR_TIMEOUT = 4
EVENT_STATE = 5
EVENT_LINK = 6
EVENT_CONFIG = 7
EVENT_DROPS = 8
EVENT_RIGHTS = 9
EVENT_RECONNECTED = 10


class Frame(Structure):
    _fields_ = [
        ("id", c_uint32),
        ("flags", c_uint32),
        ("len", c_uint8),
        ("data", c_uint8 * MAX_DLEN),
        ("ifname", c_char * IFNAMSIZ),
        ("timestamp_ns", c_uint64),
    ]


class Filter(Structure):
    _fields_ = [
        ("id", c_uint32),
        ("mask", c_uint32),
        ("kind", c_int),
        ("invert", c_int),
    ]


class Options(Structure):
    _fields_ = [
        ("channel", c_char_p),
        ("receive_own_messages", c_int),
        ("local_loopback", c_int),
        ("fd", c_int),
        ("ignore_rx_error_frames", c_int),
        ("filters", POINTER(Filter)),
        ("n_filters", c_size_t),
    ]


class ConnectOptions(Structure):
    _fields_ = [
        ("path", c_char_p),
        ("reconnect_ms", c_int),
    ]


class Iface(Structure):
    _fields_ = [
        ("name", c_char * IFNAMSIZ),
        ("ifindex", c_uint),
        ("up", c_int),
        ("mtu", c_uint),
        ("hardware", c_int),
        ("kind", c_char * 16),
    ]


class TaskInfo(Structure):
    _fields_ = [
        ("id", c_uint32),
        ("state", c_int),
        ("period_us", c_uint64),
        ("duration_us", c_uint64),
        ("n_frames", c_size_t),
        ("frames", POINTER(Frame)),
    ]


class BusConfig(Structure):
    _fields_ = [
        ("bitrate", c_uint32),
        ("sample_point", c_uint32),
        ("data_bitrate", c_uint32),
        ("data_sample_point", c_uint32),
        ("restart_ms", c_uint32),
        ("ctrlmode", c_uint32),
        ("ctrlmode_supported", c_uint32),
        ("clock_hz", c_uint32),
    ]


class DevStats(Structure):
    _fields_ = [
        ("bus_errors", c_uint32),
        ("error_warning", c_uint32),
        ("error_passive", c_uint32),
        ("bus_off", c_uint32),
        ("arbitration_lost", c_uint32),
        ("restarts", c_uint32),
    ]


class LinkStats(Structure):
    _fields_ = [
        ("rx_packets", c_uint64),
        ("tx_packets", c_uint64),
        ("rx_bytes", c_uint64),
        ("tx_bytes", c_uint64),
        ("rx_errors", c_uint64),
        ("tx_errors", c_uint64),
        ("rx_dropped", c_uint64),
        ("tx_dropped", c_uint64),
        ("rx_over_errors", c_uint64),
    ]


class BusState(Structure):
    _fields_ = [
        ("link", Iface),
        ("running", c_int),
        ("state", c_int),
        ("state_from_error_frames", c_int),
        ("has_error_counters", c_int),
        ("tx_errors", c_uint),
        ("rx_errors", c_uint),
        ("controller", c_int),
        ("config", BusConfig),
        ("dev", DevStats),
        ("has_stats", c_int),
        ("stats", LinkStats),
        ("busoff_policy", c_char * 128),
    ]


class BusChange(Structure):
    _fields_ = [
        ("bitrate", c_uint32),
        ("sample_point", c_uint32),
        ("data_bitrate", c_uint32),
        ("data_sample_point", c_uint32),
        ("restart_ms", c_int64),
        ("ctrlmode_mask", c_uint32),
        ("ctrlmode_flags", c_uint32),
        ("up", c_int),
    ]


class BusConfigured(Structure):
    _fields_ = [
        ("cycled", c_int),
        ("up", c_int),
        ("controller", c_int),
        ("config", BusConfig),
    ]


class _EvState(Structure):
    _fields_ = [
        ("state", c_int),
        ("previous", c_int),
        ("has_error_counters", c_int),
        ("tx_errors", c_uint),
        ("rx_errors", c_uint),
        ("from_error_frames", c_int),
    ]


class _EvLink(Structure):
    _fields_ = [
        ("up", c_int),
        ("running", c_int),
        ("removed", c_int),
        ("appeared", c_int),
        ("rebound", c_int),
        ("ifindex", c_uint),
    ]


class _EvConfig(Structure):
    _fields_ = [
        ("controller", c_int),
        ("config", BusConfig),
        ("previous", BusConfig),
        ("mtu", c_uint),
        ("previous_mtu", c_uint),
    ]


class _EvDrops(Structure):
    _fields_ = [
        ("kernel_drops", c_uint64),
        ("dropped", c_uint64),
        ("slow_reader", c_int),
    ]


class _EvReconnect(Structure):
    _fields_ = [
        ("gap_ns", c_uint64),
        ("lost_ns", c_uint64),
        ("shutdown", c_int),
    ]


class _EvUnion(Union):
    _fields_ = [
        ("state", _EvState),
        ("link", _EvLink),
        ("config", _EvConfig),
        ("drops", _EvDrops),
        ("reconnect", _EvReconnect),
    ]


class Event(Structure):
    _anonymous_ = ("u",)
    _fields_ = [
        ("type", c_int),
        ("id", c_uint32),
        ("ifname", c_char * IFNAMSIZ),
        ("detail", c_char * 256),
        ("frame", Frame),
        ("u", _EvUnion),
    ]


_H = c_void_p  # cand_t *, cand_task_t *
_PROTOTYPES = {
    "cand_options_init": (None, [POINTER(Options)]),
    "cand_connect": (c_int, [POINTER(c_void_p), c_char_p]),
    "cand_connect_options_init": (None, [POINTER(ConnectOptions)]),
    "cand_connect_opts": (c_int, [POINTER(c_void_p), POINTER(ConnectOptions)]),
    "cand_open": (c_int, [_H, POINTER(Options)]),
    "cand_close": (None, [_H]),
    # Frames go by address: the hot paths pass a preallocated struct.
    "cand_send": (c_int, [_H, c_void_p, c_size_t, c_int]),
    "cand_recv": (c_int, [_H, c_void_p, c_int]),
    "cand_set_filters": (c_int, [_H, POINTER(Filter), c_size_t]),
    "cand_list": (c_int, [_H, POINTER(POINTER(Iface))]),
    "cand_fileno": (c_int, [_H]),
    "cand_pending": (c_size_t, [_H]),
    "cand_kernel_drops": (c_uint64, [_H]),
    "cand_task_start": (
        c_int,
        [_H, c_void_p, c_size_t, c_uint64, c_uint64, c_uint, POINTER(c_void_p)],
    ),
    "cand_task_modify": (c_int, [_H, c_void_p, c_size_t]),
    "cand_task_stop": (c_int, [_H]),
    "cand_task_resume": (c_int, [_H]),
    "cand_task_free": (None, [_H]),
    "cand_task_id": (c_uint32, [_H]),
    "cand_task_stop_all": (c_int, [_H]),
    "cand_task_list": (c_int, [_H, POINTER(POINTER(TaskInfo))]),
    "cand_strerror": (c_char_p, [c_int]),
    "cand_last_detail": (c_char_p, [_H]),
    "cand_bus_state": (c_int, [_H, c_char_p, POINTER(POINTER(BusState))]),
    "cand_state_name": (c_char_p, [c_int]),
    "cand_bus_change_init": (None, [POINTER(BusChange)]),
    "cand_configure": (
        c_int,
        [_H, c_char_p, POINTER(BusChange), POINTER(BusConfigured)],
    ),
    "cand_restart": (c_int, [_H, c_char_p]),
    "cand_flush_tx": (c_int, [_H, c_void_p, c_size_t]),
    "cand_subscribe": (c_int, [_H, c_char_p]),
    "cand_unsubscribe": (c_int, [_H]),
    "cand_recv_event": (c_int, [_H, c_void_p, c_int]),
}


class LibraryNotFound(Exception):
    """libcand.so.1 could not be loaded from any of the places tried."""


def _candidates():
    """Where to look, in order: $CAND_LIBRARY, the path recorded when the
    package was built or installed, then the dynamic loader's search."""
    env = os.environ.get("CAND_LIBRARY")
    if env:
        yield env
    try:
        from . import _paths  # written by make

        if _paths.LIBRARY:
            yield _paths.LIBRARY
    except ImportError:
        pass
    yield "libcand.so.1"


def _bind(cdll):
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(cdll, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return cdll


_lib = None
_path = None
_free = None


def load():
    """The bound library; loaded once, LibraryNotFound with every path tried
    and why when none works."""
    global _lib, _path, _free
    if _lib is not None:
        return _lib
    tried = []
    for path in _candidates():
        try:
            cdll = ctypes.CDLL(path, use_errno=True)
            _bind(cdll)
        except (OSError, AttributeError) as error:
            tried.append(f"{path}: {error}")
            continue
        libc = ctypes.CDLL(None)
        libc.free.argtypes = [c_void_p]
        libc.free.restype = None
        _free = libc.free
        _lib = cdll
        _path = path
        return _lib
    raise LibraryNotFound("cannot load libcand: " + "; ".join(tried))


def unchecked(name):
    """A second, prototype-free binding of an int function, for the receive
    path: ctypes then converts nothing, which halves the cost of a call.
    The caller passes c_void_p and byref() objects and small ints only."""
    fn = getattr(ctypes.CDLL(_path), name)
    fn.restype = c_int
    return fn


def free(ptr):
    """free() for the arrays libcand hands out."""
    _free(ctypes.cast(ptr, c_void_p))


def text(raw):
    """A C string from libcand (bytes or None) as str."""
    return raw.decode("utf-8", "replace") if raw else ""
