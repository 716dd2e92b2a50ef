"""
python-can-cand: python-can's interface "cand", the cand CAN bus daemon.

    import can
    bus = can.Bus(interface="cand", channel="vcan0")

See CandBus, and the README's python section.
"""

from .bus import CandBus
from .events import BusEvent, BusStatus, Configured
from .task import CandCyclicTask

__version__ = "0.1.0"
__all__ = ["CandBus", "CandCyclicTask", "BusEvent", "BusStatus", "Configured"]
