"""
can.Message <-> struct cand_frame, and python-can filters as cand's.

Received frames are the hot path: reader() builds, once per bus, a
function that turns the bus's preallocated frame into a Message with one
struct unpack, one slice and one positional Message() call.
"""

import ctypes
import inspect
import struct

import can

from . import _lib, errors

_DATA = _lib.Frame.data.offset
_IFNAME = _lib.Frame.ifname.offset
_IFNAME_END = _IFNAME + _lib.IFNAMSIZ
_STAMP = _lib.Frame.timestamp_ns.offset
# id, flags, len and timestamp_ns in one unpack: what lies between skipped.
_HEAD = struct.Struct(f"=IIB{_STAMP - _DATA}xQ")
assert _HEAD.size == _STAMP + 8
_ID_MASK = 0x1FFFFFFF
_EFF_FLAG = 0x80000000
_INV_FILTER = 0x20000000


def _flag_table():
    """CAND_FRAME_* bits -> (extended, remote, error, fd, brs, esi, is_rx).

    is_rx as the socketcan backend has it: not sent by a socket of this
    host (the kernel's MSG_DONTROUTE, which cand passes on as LOCAL); our
    own echoes are local too."""
    bits = (
        _lib.FRAME_EXTENDED,
        _lib.FRAME_REMOTE,
        _lib.FRAME_ERROR,
        _lib.FRAME_FD,
        _lib.FRAME_BRS,
        _lib.FRAME_ESI,
    )
    local = _lib.FRAME_OWN | _lib.FRAME_LOCAL
    return tuple(tuple(bool(f & b) for b in bits) + (not f & local,) for f in range(256))


_FLAGS = _flag_table()

# The most a send waits for a full TX queue when python-can says "forever".
FOREVER_MS = 2**31 - 1

# Message(timestamp, arbitration_id, ..., error_state_indicator) has kept
# this order through python-can 4.x; positional arguments halve the cost of
# building one. Checked, not assumed: otherwise keywords.
_ORDER = (
    "timestamp",
    "arbitration_id",
    "is_extended_id",
    "is_remote_frame",
    "is_error_frame",
    "channel",
    "dlc",
    "data",
    "is_fd",
    "is_rx",
    "bitrate_switch",
    "error_state_indicator",
)
_POSITIONAL = tuple(inspect.signature(can.Message).parameters)[: len(_ORDER)] == _ORDER


def _keywords(*values):
    return can.Message(**dict(zip(_ORDER, values)))


def reader(frame, channel, names=None):
    """A function returning the Message for what is in frame now.

    A bus bound to one interface passes its name; the "" channel passes
    names(raw_ifname), which gives each interface's Message.channel.
    """
    buf = memoryview(frame).cast("B")
    head = _HEAD.unpack_from
    flag_table = _FLAGS
    make = can.Message if _POSITIONAL else _keywords

    def read():
        fid, flags, n, stamp = head(buf)
        ext, rtr, err, fdf, brs, esi, rx = flag_table[flags & 0xFF]
        # As the socketcan backend: seconds + nanoseconds * 1e-9, to the bit.
        sec, ns = divmod(stamp, 1000000000)
        chan = channel if names is None else names(bytes(buf[_IFNAME:_IFNAME_END]))
        return make(
            sec + ns * 1e-9,
            fid if ext else fid & 0x7FF,
            ext,
            rtr,
            err,
            chan,
            n,
            bytearray() if rtr else bytearray(buf[_DATA : _DATA + n]),
            fdf,
            rx,
            brs,
            esi,
        )

    return read


def ifname(raw):
    """A C ifname field (bytes, NUL-padded) as str."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def fill(frame, msg, any_channel, what):
    """Puts msg into frame; any_channel: the bus is on "", so msg.channel
    names the interface. Nothing libcand checks itself is checked here."""
    n = msg.dlc
    if not isinstance(n, int) or not 0 <= n <= _lib.MAX_DLEN:
        raise errors.make(_lib.EINVAL, what, f"a length (dlc) of {n!r}")
    flags = 0
    if msg.is_extended_id:
        flags |= _lib.FRAME_EXTENDED
    if msg.is_remote_frame:
        flags |= _lib.FRAME_REMOTE
    if msg.is_error_frame:
        flags |= _lib.FRAME_ERROR
    if msg.is_fd:
        flags |= _lib.FRAME_FD
        if msg.bitrate_switch:
            flags |= _lib.FRAME_BRS
        if msg.error_state_indicator:
            flags |= _lib.FRAME_ESI
    arb = msg.arbitration_id
    if not isinstance(arb, int) or not 0 <= arb <= _ID_MASK:
        raise errors.make(_lib.EINVAL, what, f"an arbitration id of {arb!r}")
    frame.id = arb
    frame.flags = flags
    frame.len = n
    if not msg.is_remote_frame:
        # As socketcan: dlc bytes go out, msg.data zero-padded to them.
        data = bytes(msg.data[:n])
        ctypes.memmove(ctypes.addressof(frame) + _DATA, data, len(data))
    if any_channel and msg.channel is not None:
        name = str(msg.channel).encode()
        if len(name) >= _lib.IFNAMSIZ:
            raise errors.make(_lib.EINVAL, what, f"no interface is called {msg.channel!r}")
        frame.ifname = name


def frames_of(messages, any_channel, what):
    """An array of struct cand_frame holding messages."""
    array = (_lib.Frame * len(messages))()
    for i, msg in enumerate(messages):
        fill(array[i], msg, any_channel, what)
    return array


def filters_of(can_filters):
    """python-can filters as (array, count) of struct cand_filter; None or
    [] passes everything, as in python-can. As for the socketcan backend,
    which hands them to the kernel as they are, the kernel's flag bits mean
    what they mean there: CAN_INV_FILTER in can_id inverts the filter, and
    CAN_EFF_FLAG in can_mask pins it to one id format."""
    if not can_filters:
        return None, 0
    array = (_lib.Filter * len(can_filters))()
    for i, flt in enumerate(can_filters):
        try:
            can_id = int(flt["can_id"])
            can_mask = int(flt["can_mask"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"filter {i} ({flt!r}) needs integer 'can_id' and 'can_mask'"
            ) from error
        if "extended" in flt:
            kind = _lib.FILTER_EXTENDED if flt["extended"] else _lib.FILTER_STANDARD
        elif can_mask & _EFF_FLAG:
            kind = _lib.FILTER_EXTENDED if can_id & _EFF_FLAG else _lib.FILTER_STANDARD
        else:
            kind = _lib.FILTER_ANY
        array[i].id = can_id & _ID_MASK
        array[i].mask = can_mask & _ID_MASK
        array[i].kind = kind
        array[i].invert = 1 if can_id & _INV_FILTER else 0
    return array, len(can_filters)
