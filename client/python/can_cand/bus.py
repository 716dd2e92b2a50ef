"""
CandBus: python-can's SocketcanBus, served by cand.

can.Bus(interface="cand", channel="vcan0") behaves as interface="socketcan"
does (the same options, Message fields, filters in the kernel, tasks in the
kernel's broadcast manager), plus what only a broker can give: real bus
state, configuration without root, sends that wait for room in the TX
queue, and bus events in order with the frames.
"""

import ctypes
import inspect
import logging
import warnings

import can
from can import BusABC

from . import _lib, errors, frames
from .handle import Handle, socket_path
from .health import HealthMixin, list_interfaces
from .task import CandCyclicTask

log = logging.getLogger("can.cand")
# Where python-can's BusABC.recv() logs each message, as recv() does here.
_BUS_LOG = logging.getLogger("can.bus")
_RECV_LOG = _BUS_LOG.isEnabledFor

# python-can 4.3+ knows CAN protocols and periodic modifier callbacks; 4.1
# does not. Features, not version numbers, decide.
_CanProtocol = getattr(can, "CanProtocol", None)
_BASE_MODIFIER = "modifier_callback" in inspect.signature(BusABC._send_periodic_internal).parameters
_REFUSED_FILTERS = (_lib.EINVAL, _lib.ELIMIT, _lib.EUNSUPP)
_NOT_OPENED = object()  # filters open() could not install


def _timeout_ms(timeout):
    """python-can's send timeout (seconds; None: as long as it takes)."""
    if timeout is None:
        return frames.FOREVER_MS
    if timeout <= 0:
        return 0
    return min(frames.FOREVER_MS, max(1, int(timeout * 1000 + 0.999)))


class CandBus(HealthMixin, BusABC):
    """A CAN channel through the cand daemon; see the README."""

    def __init__(
        self,
        channel="",
        receive_own_messages=False,
        local_loopback=True,
        fd=False,
        can_filters=None,
        ignore_rx_error_frames=False,
        socket=None,
        bitrate=None,
        data_bitrate=None,
        reconnect_ms=None,
        **kwargs,
    ):
        """
        :param channel: an interface (``"vcan0"``) or ``""`` for all of them
        :param receive_own_messages: also receive what this bus sends
        :param local_loopback: let other programs on this host see our frames
        :param fd: CAN FD frames
        :param can_filters: as python-can's, applied in the kernel
        :param ignore_rx_error_frames: do not receive error frames
        :param socket: cand's socket (default ``$CAND_SOCKET`` or
            ``/run/cand.sock``)
        :param bitrate: on a real controller running another bitrate, set
            it (needs cand's ``configure`` right; else a warning says why
            not); ignored on virtual interfaces, as by socketcan
        :param data_bitrate: the same for the CAN FD data phase
        :param reconnect_ms: how long to keep trying to reach the daemon
            again after it went away (a restart, an upgrade): default
            ``$CAND_RECONNECT_MS``, else 30 s; 0 never
        """
        channel = "" if channel is None else str(channel)
        self.channel = channel
        self.channel_info = f"cand channel '{channel}' on {socket_path(socket)}"
        self._socket = socket
        self._closing = False
        self._tasks = []
        self._is_filtered = True
        #: how often the daemon went away and the bus came back
        self.reconnects = 0
        self._handle = Handle(socket, can.CanInitializationError, reconnect_ms)
        self._handle.on_reconnect = self._on_reconnect
        try:
            # Before opening: a controller cand reconfigures goes down and
            # up, which an open channel would see as a failed recv().
            if bitrate or data_bitrate:
                self._apply_bitrate(bitrate, data_bitrate)
            self._open(
                channel,
                receive_own_messages,
                local_loopback,
                fd,
                ignore_rx_error_frames,
                can_filters,
            )
        except BaseException:
            self._handle.close()
            raise
        self._by_raw = {}
        self._rx_frame = _lib.Frame()
        self._ev = _lib.Event()
        self._read = self._reader(self._rx_frame)
        self._ev_read = self._reader(self._ev.frame)
        self._get = self._handle.receiver(
            _lib.unchecked("cand_recv"), ctypes.byref(self._rx_frame), "Failed to receive"
        )
        self._get_event = self._handle.receiver(
            _lib.unchecked("cand_recv_event"), ctypes.byref(self._ev), "Failed to receive"
        )
        if _CanProtocol is not None:
            self._can_protocol = _CanProtocol.CAN_FD if fd else _CanProtocol.CAN_20
        kwargs.update(
            {
                "receive_own_messages": receive_own_messages,
                "fd": fd,
                "local_loopback": local_loopback,
            }
        )
        super().__init__(channel=channel, can_filters=can_filters, **kwargs)

    # ---- opening ----

    def _open(self, channel, own, loopback, fd, no_err, can_filters):
        opts = _lib.Options()
        lib = self._handle.lib
        lib.cand_options_init(ctypes.byref(opts))
        opts.channel = channel.encode()
        opts.receive_own_messages = 1 if own else 0
        opts.local_loopback = 1 if loopback else 0
        opts.fd = 1 if fd else 0
        opts.ignore_rx_error_frames = 1 if no_err else 0
        array, n = frames.filters_of(can_filters)
        if n:
            opts.filters = array
            opts.n_filters = n
        what = f"cannot open channel '{channel}' on cand at {socket_path(self._socket)}"
        try:
            self._open_with(opts, what)
        except can.CanInitializationError as error:
            if not n or error.cand_error not in _REFUSED_FILTERS:
                raise
            # Filters cand refuses: BusABC.__init__ then sets them, and falls
            # back to python-can's own filtering as socketcan does.
            opts.filters = None
            opts.n_filters = 0
            self._open_with(opts, what)
            can_filters = _NOT_OPENED
        # BusABC.__init__ sets these filters again: they are in place.
        self._opened_filters = can_filters

    def _open_with(self, opts, what):
        try:
            self._handle.call("open", self._handle.lib.cand_open, ctypes.byref(opts))
        except can.CanError as error:
            raise errors.make(
                error.cand_error, what, error.detail, can.CanInitializationError
            ) from None

    def _reader(self, frame):
        if self.channel:
            return frames.reader(frame, self.channel)
        return frames.reader(frame, None, self._names)

    def _names(self, raw):
        """Message.channel of a raw ifname."""
        name = self._by_raw.get(raw)
        if name is None:
            name = self._by_raw[raw] = frames.ifname(raw)
        return name

    def _apply_bitrate(self, bitrate, data_bitrate):
        """Sets a real controller's bit rates when they differ; a warning,
        never a failure, when that cannot be done."""
        if not self.channel:
            log.warning('cand: bitrate is ignored on the "" channel (all interfaces)')
            return
        want = "bitrate %s" % bitrate if bitrate else "data_bitrate %s" % data_bitrate
        try:
            status = self.bus_status()
        except can.CanError as error:
            if getattr(error, "cand_error", None) != _lib.ENODEV:
                log.warning("cand: %s on %s was not applied: %s", want, self.channel, error)
            return  # and opening says what is wrong with the channel
        try:
            if status.config is None:
                log.debug("cand: %s is virtual: %s ignored", self.channel, want)
                return
            change = {}
            if bitrate and int(bitrate) != status.config["bitrate"]:
                change["bitrate"] = int(bitrate)
            if data_bitrate and int(data_bitrate) != status.config["data_bitrate"]:
                change["data_bitrate"] = int(data_bitrate)
            if change:
                self.configure(**change)
                log.info("cand: %s configured: %s", self.channel, change)
        except can.CanError as error:
            log.warning("cand: %s on %s was not applied: %s", want, self.channel, error)

    def _on_reconnect(self, detail):
        """The daemon restarted and libcand is connected again, with this
        bus's channel, filters and tasks set up anew: frames go on, but what
        the bus carried in the gap is lost, so say so where python-can's
        users look."""
        self.reconnects += 1
        log.warning(
            "cand: reconnected to %s: %s; frames of the gap are lost",
            socket_path(self._socket),
            detail or "the daemon restarted",
        )

    # ---- python-can's bus ----

    def recv(self, timeout=None):
        """As python-can's, without its per-message overhead while the
        filters are in the kernel (always, unless cand refused them)."""
        if not self._is_filtered:
            return BusABC.recv(self, timeout)
        if timeout is not None and timeout < 0:
            timeout = 0
        if not self._get(timeout):
            return None
        msg = self._read()
        if _RECV_LOG(self.RECV_LOGGING_LEVEL):
            _BUS_LOG.log(self.RECV_LOGGING_LEVEL, "Received: %s", msg)
        return msg

    def _recv_internal(self, timeout):
        if timeout is not None and timeout < 0:
            timeout = 0
        if self._get(timeout):
            return self._read(), self._is_filtered
        return None, self._is_filtered

    def send(self, msg, timeout=None):
        """Sends msg. While the interface's TX queue is full cand retries
        for up to timeout seconds (None: until it goes; 0: once), then
        raises CanOperationError ("TX buffer full")."""
        what = "Failed to transmit"
        frame = _lib.Frame()
        frames.fill(frame, msg, self.channel == "", what)
        self._handle.call(
            what, self._handle.lib.cand_send, ctypes.addressof(frame), 1, _timeout_ms(timeout)
        )

    def _send_periodic_internal(
        self, msgs, period, duration=None, autostart=True, modifier_callback=None
    ):
        if modifier_callback is None:
            msgs = CandCyclicTask._check_and_convert_messages(msgs)
            return CandCyclicTask(self, msgs, period, duration, autostart)
        if not _BASE_MODIFIER:
            raise ValueError("modifier_callback needs a python-can that has it (4.3 or later)")
        # The kernel sends fixed data: a callback per frame needs a thread,
        # as in the socketcan backend.
        warnings.warn(
            f"{self.__class__.__name__} falls back to a thread-based cyclic task, "
            "when the `modifier_callback` argument is given.",
            stacklevel=3,
        )
        return BusABC._send_periodic_internal(
            self,
            msgs=msgs,
            period=period,
            duration=duration,
            autostart=autostart,
            modifier_callback=modifier_callback,
        )

    def _adopt(self, task):
        self._tasks.append(task)

    def _apply_filters(self, filters):
        opened, self._opened_filters = self._opened_filters, _NOT_OPENED
        if filters is opened:
            return  # BusABC.__init__ repeating what open() installed
        array, n = frames.filters_of(filters)
        lib = self._handle.lib
        try:
            self._handle.call("Failed to set filters", lib.cand_set_filters, array, n)
            self._is_filtered = True
        except can.CanOperationError as error:
            if getattr(error, "cand_error", None) not in _REFUSED_FILTERS:
                raise
            # As the socketcan backend: filter here instead.
            log.error(
                "Setting filters failed; falling back to software filtering " "(not in kernel): %s",
                error,
            )
            self._handle.call("Failed to clear filters", lib.cand_set_filters, None, 0)
            self._is_filtered = False

    def flush_tx_buffer(self):
        """Drops what cand still holds of this bus's sends; returns how many.
        Frames the kernel already has cannot be taken back (its queue is
        every socket's), and the debug log says so."""
        note = ctypes.create_string_buffer(256)
        n = self._handle.call(
            "Failed to flush", self._handle.lib.cand_flush_tx, note, ctypes.sizeof(note)
        )
        log.debug("cand: flush: %s", _lib.text(note.value))
        return n

    def fileno(self):
        """A descriptor that is readable exactly while recv(0) would return
        a message (or an event), for select(), can.Notifier and asyncio."""
        return self._handle.fileno()

    def shutdown(self):
        """Stops the tasks and closes the connection; again is harmless."""
        if self._handle.closed:
            return
        # Closing the connection ends every task at once: no stop each.
        self._closing = True
        try:
            super().shutdown()
        finally:
            if self._handle.close():
                for task in self._tasks:
                    task._free()
                self._tasks.clear()

    @property
    def state(self):
        """The controller's real state as python-can's BusState."""
        return self._bus_state()

    @state.setter
    def state(self, new_state):
        raise NotImplementedError(
            "cand does not switch controller modes through state; use configure()"
        )

    @staticmethod
    def _detect_available_configs():
        """The interfaces cand serves that are up, as socketcan lists its."""
        try:
            handle = Handle(None, can.CanInitializationError, reconnect_ms=0)
        except can.CanError as error:
            log.debug("cand: nothing to detect: %s", error)
            return []
        try:
            names = [name for name, up, _hw in list_interfaces(handle) if up]
        except can.CanError as error:
            log.error("cand: cannot list the interfaces: %s", error)
            return []
        finally:
            handle.close()
        return [{"interface": "cand", "channel": name} for name in names]
