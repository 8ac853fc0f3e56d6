"""Deferred MPPS: queue N-CREATE / N-SET while the destination is down, send them later.

Like a modality's "defer PPS": a step started while the RIS is unreachable is
kept (and shown) locally, its messages wait in the durable outbox
(:mod:`mppsconsole.store.outbox`) and a :class:`DeferredSender` thread retries
them in order per step with jittered exponential back-off.

Only *no answer* defers (connection refused, timeout, transient rejection,
association lost). A failure status is the peer's real answer: the caller
reports it as before, and a deferred message refused on retry is marked
refused, never retried.

N-CREATE is not idempotent. A message that certainly never left (no
association) is simply sent again. One whose association died after it was
sent, before the response came (``maybe_delivered``), may have been acted on:
on retry the peer then answers 0x0111 Duplicate SOP Instance for the N-CREATE
(the SOP Instance UID is ours and unique, so the duplicate can only be our
own earlier delivery) or, for a final N-SET, 0x0110 "may no longer be updated"
(no one else sets our step). Both mean "already delivered" and count as
success; without ``maybe_delivered`` they stay the refusals they are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import threading

from pydicom.dataset import Dataset
from pynetdicom.presentation import build_context
from pynetdicom.sop_class import ModalityPerformedProcedureStep  # type: ignore[attr-defined]

from mppsconsole.core.errors import PeerUnreachable, UserError
from mppsconsole.core.events import EventHub, StepChanged, Traffic
from mppsconsole.core.mpps import FINAL_STATUSES
from mppsconsole.core.settings import Node
from mppsconsole.core.step import SENT, StepSummary
from mppsconsole.net import datasets
from mppsconsole.net.association import ACSE_TIMEOUT, DIMSE_TIMEOUT, associate
from mppsconsole.net.mpps_scu import send_create, send_set
from mppsconsole.net.scp_context import now
from mppsconsole.net.status import PROCESSING_FAILURE, describe, is_success, is_warning
from mppsconsole.store import instances, outbox, steps
from mppsconsole.store.db import Database

log = logging.getLogger(__name__)

DUPLICATE_SOP_INSTANCE = 0x0111
#: How long a claimed message belongs to its sender: longer than any one attempt.
LEASE = dt.timedelta(seconds=ACSE_TIMEOUT + 2 * DIMSE_TIMEOUT)

DELIVERED = "delivered"
WAITING = "waiting"
REFUSED = "refused"


@dataclasses.dataclass(frozen=True)
class Backoff:
    """Delay before attempt n+1: ``first`` doubling up to ``cap``, +/- ``jitter`` of it."""

    first: float = 5.0
    cap: float = 300.0
    jitter: float = 0.2

    def delay(self, attempts: int) -> dt.timedelta:
        base = min(self.cap, self.first * 2 ** max(0, attempts - 1))
        spread = base * self.jitter
        return dt.timedelta(seconds=base + random.uniform(-spread, spread))


DEFAULT_BACKOFF = Backoff()


@dataclasses.dataclass(frozen=True)
class Attempt:
    """What happened to one deferred message on one try."""

    message: outbox.Deferred
    outcome: str  # DELIVERED, WAITING or REFUSED
    detail: str


def defer(
    db: Database,
    summary: StepSummary,
    dataset_json: str,
    kind: str,
    message_json: str,
    node: Node,
    calling_ae: str,
    error: UserError,
    *,
    backoff: Backoff,
    link: list[str] | None = None,
) -> int:
    """Keep the step's new local state and queue its message, in one transaction."""
    maybe = isinstance(error, PeerUnreachable) and error.maybe_delivered
    at = now()
    with db.transaction() as conn:
        stored = steps.get(conn, summary.sop_instance_uid, SENT)
        peer = stored.peer if stored else f"{node.host}:{node.port}"
        steps.save(conn, summary, dataset_json, peer, at)
        if link:
            instances.link(conn, summary.sop_instance_uid, link)
        # Behind an earlier message it was not tried: due as soon as its turn comes.
        behind = outbox.has_open(conn, summary.sop_instance_uid)
        message_id = outbox.enqueue(
            conn,
            summary.sop_instance_uid,
            kind,
            message_json,
            node,
            calling_ae,
            now=at,
            next_attempt=at if behind else at + backoff.delay(1),
            error=str(error),
            attempts=0 if behind else 1,
            maybe_delivered=maybe,
        )
    log.warning("%s %s deferred: %s", kind, summary.sop_instance_uid, error)
    return message_id


def waiting_for_earlier(db: Database, step_uid: str) -> bool:
    """True when the step has a message in the outbox: later ones must queue behind it."""
    with db.reading() as conn:
        return outbox.has_open(conn, step_uid)


def is_deferred(db: Database, step_uid: str) -> bool:
    return waiting_for_earlier(db, step_uid)


def _already_delivered(message: outbox.Deferred, status: Dataset) -> bool:
    """A refusal that only says our earlier, unanswered delivery did arrive (module doc)."""
    if not message.maybe_delivered:
        return False
    code = int(status.Status)
    if message.kind == outbox.N_CREATE:
        return code == DUPLICATE_SOP_INSTANCE
    mods = datasets.from_json(message.dataset_json)
    final = str(mods.get("PerformedProcedureStepStatus", "")) in FINAL_STATUSES
    return final and code == PROCESSING_FAILURE


def _send(message: outbox.Deferred) -> Dataset:
    ds = datasets.from_json(message.dataset_json)
    with associate(
        message.calling_ae,
        message.node,
        [build_context(ModalityPerformedProcedureStep)],
        required=[ModalityPerformedProcedureStep],
    ) as assoc:
        if message.kind == outbox.N_CREATE:
            return send_create(assoc, message.node, message.step_uid, ds)
        return send_set(assoc, message.node, message.step_uid, ds)


def attempt(
    db: Database, message: outbox.Deferred, backoff: Backoff, events: EventHub | None
) -> Attempt:
    """Send one claimed message and record what came of it."""
    try:
        status = _send(message)
    except UserError as exc:
        # Unreachable again (or a rejection the user may fix in the settings): wait.
        maybe = isinstance(exc, PeerUnreachable) and exc.maybe_delivered
        with db.transaction() as conn:
            outbox.reschedule(
                conn,
                message.id,
                now() + backoff.delay(message.attempts),
                str(exc),
                maybe_delivered=maybe,
            )
        return Attempt(message, WAITING, str(exc))
    code = int(status.Status)
    delivered = is_success(code) or is_warning(code) or _already_delivered(message, status)
    detail = describe(status)
    with db.transaction() as conn:
        steps.add_message(
            conn,
            steps.Message(
                sop_instance_uid=message.step_uid,
                time=now(),
                direction=SENT,
                command=message.kind,
                calling_ae=message.node.ae_title,
                peer=f"{message.node.host}:{message.node.port}",
                status=code,
                error_comment=str(status.get("ErrorComment", "") or ""),
                dataset_json=message.dataset_json,
            ),
        )
        if delivered:
            outbox.finish(conn, message.id, outbox.SENT)
        else:
            outbox.finish(conn, message.id, outbox.REFUSED, detail)
            if message.kind == outbox.N_CREATE:
                # The peer has no such step: its later N-SETs cannot succeed.
                for later in outbox.later_open(conn, message.step_uid, message.seq):
                    outbox.cancel(conn, later, f"N-CREATE refused: {detail}")
        stored = steps.get(conn, message.step_uid, SENT)
    if events is not None:
        node = message.node
        events.publish(
            Traffic(
                now(),
                "out",
                f"{node.ae_title}@{node.host}:{node.port}",
                message.kind,
                f"0x{code:04X}",
                f"{message.step_uid} (deferred)",
            )
        )
        if stored is not None:
            events.publish(StepChanged(stored.summary))
    return Attempt(message, DELIVERED if delivered else REFUSED, detail)


def flush(
    db: Database,
    backoff: Backoff,
    events: EventHub | None = None,
    stop: threading.Event | None = None,
) -> list[Attempt]:
    """Try every message that is due, in order per step; what happened to each."""
    done: list[Attempt] = []
    while stop is None or not stop.is_set():
        with db.transaction() as conn:
            at = now()
            message = outbox.claim_due(conn, at, at + LEASE)
        if message is None:
            break
        done.append(attempt(db, message, backoff, events))
    return done


def retry_now(db: Database, message_id: int | None = None) -> int:
    """Make one waiting message (or all) due at once; how many."""
    with db.transaction() as conn:
        return outbox.retry_now(conn, now(), message_id)


def cancel(db: Database, message_id: int) -> list[int]:
    """Cancel a waiting message (an N-CREATE takes its step's later N-SETs with it)."""
    with db.transaction() as conn:
        return outbox.cancel(conn, message_id, "cancelled by the user")


class DeferredSender:
    """The retry worker: a thread that sends due messages until stopped."""

    #: Longest sleep between looks at the queue (other processes may add to it).
    POLL_S = 5.0

    def __init__(
        self, db: Database, events: EventHub | None = None, backoff: Backoff | None = None
    ) -> None:
        self.db = db
        self.events = events
        self.backoff = backoff or Backoff()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="mpps-outbox", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the queue now (after 'retry now' or a new deferral)."""
        self._wake.set()

    def stop(self, timeout: float = ACSE_TIMEOUT + DIMSE_TIMEOUT) -> None:
        """Stop after the attempt in progress, if any."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _sleep_s(self) -> float:
        with self.db.reading() as conn:
            due = outbox.next_due(conn)
        if due is None:
            return self.POLL_S
        return max(0.0, min(self.POLL_S, (due - now()).total_seconds()))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                flush(self.db, self.backoff, self.events, self._stop)
                pause = self._sleep_s()
            except Exception:  # a bug: keep the worker alive, the queue is durable
                log.exception("deferred MPPS sender failed")
                pause = self.POLL_S
            self._wake.wait(pause)
            self._wake.clear()
