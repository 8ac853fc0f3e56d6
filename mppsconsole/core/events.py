"""What the SCP and the modality services announce after a change is stored.

Publishers run on pynetdicom's threads or a worker thread; subscribers must be
quick and thread-safe (the GUI bridge only queues the event and wakes the Qt
thread). A failing subscriber is logged, never allowed to break the handler
that published, because the peer's answer must not depend on a widget.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable

from mppsconsole.core.step import StepSummary

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class StepChanged:
    """A step was created or updated (received or sent)."""

    summary: StepSummary


@dataclasses.dataclass(frozen=True)
class InstanceStored:
    """An instance was received or sent."""

    sop_instance_uid: str
    step_uid: str | None
    direction: str


@dataclasses.dataclass(frozen=True)
class Subject:
    """What a message was about, for the audit trail (never shown in the traffic log)."""

    sop_class: str = ""
    instance_uid: str = ""
    patient_id: str = ""
    patient_name: str = ""
    accession: str = ""


@dataclasses.dataclass(frozen=True)
class Traffic:
    """One line of the traffic log: an association event or a DIMSE message."""

    time: dt.datetime
    direction: str  # "in" (a peer called us) or "out" (we called a peer)
    peer: str  # AE@address
    command: str  # "ASSOCIATE", "N-CREATE", "C-STORE", ...
    status: str  # "0x0000", "accepted", "rejected: ...", ...
    detail: str = ""
    #: A problem the user must see, not only find in the log (e.g. the disk is full).
    alert: str = ""
    subject: Subject | None = None  # the audit trail's "what"; None: nothing identified


Event = StepChanged | InstanceStored | Traffic
Subscriber = Callable[[Event], None]


class EventHub:
    """Synchronous publish/subscribe, safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: tuple[Subscriber, ...] = ()

    def subscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers = tuple(s for s in self._subscribers if s != subscriber)

    def publish(self, event: Event) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:
                log.exception("event subscriber %r failed on %r", subscriber, event)
