"""
libcand's error codes as python-can's exceptions.

Every failure carries cand's own words (cand_last_detail()) in the message,
the errno a socketcan user would have seen as error_code where there is
one, and the CAND_E* code itself as the exception's cand_error attribute.
"""

import errno

import can

from . import _lib

_ERRNO = {
    _lib.EINVAL: errno.EINVAL,
    _lib.EBADMSG: errno.EBADMSG,
    _lib.ENODEV: errno.ENODEV,
    _lib.ENETDOWN: errno.ENETDOWN,
    _lib.ETXFULL: errno.ENOBUFS,
    _lib.ENOTOPEN: errno.EBADF,
    _lib.EALREADY: errno.EALREADY,
    _lib.EPERM: errno.EPERM,
    _lib.EUNSUPP: errno.EOPNOTSUPP,
    _lib.ELIMIT: errno.EMFILE,
    _lib.EIO: errno.EIO,
    _lib.ESHUTDOWN: errno.ESHUTDOWN,
    _lib.ESTATE: errno.EBUSY,
    _lib.ETIMEOUT: errno.ETIMEDOUT,
    _lib.ECONNECT: errno.ECONNREFUSED,
    _lib.EDISCONNECTED: errno.ECONNRESET,
    _lib.ENOMEM: errno.ENOMEM,
    _lib.EPROTO: errno.EPROTO,
}


def strerror(code):
    """cand_strerror() as str."""
    return _lib.text(_lib.load().cand_strerror(code))


def make(code, what, detail="", kind=None):
    """The exception for a failed call: kind, else CanTimeoutError for a
    timeout and CanOperationError for everything else."""
    reason = strerror(code)
    message = f"{what}: {reason}"
    if detail and detail != reason:
        message += f": {detail}"
    if kind is None:
        kind = can.CanTimeoutError if code == _lib.ETIMEOUT else can.CanOperationError
    error = kind(message, _ERRNO.get(code))
    error.cand_error = code
    error.detail = detail
    return error


def closed(what):
    """What every call on a bus that was shut down raises."""
    error = can.CanOperationError(f"{what}: the bus is shut down", errno.EBADF)
    error.cand_error = _lib.ENOTOPEN
    error.detail = "shutdown() was called"
    return error
