"""Fault injection: the active profile's rules applied to one request or association.

Each SCP handler calls :func:`inject` once, first thing, and gets the profile
to use for the rest of the message plus what to do: answer with a forced
status (a valid DIMSE response; nothing is stored), or carry on. Delays and
aborts happen here. Association faults (delay, reject, abort) and the
Verification service are handled by :func:`handlers`, which the server adds
to its event handlers. Everything injected shows in the traffic log as
"injected", and in the log at WARNING, so nobody mistakes it for a real fault.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import evt
from pynetdicom.association import Association
from pynetdicom.events import Event
from pynetdicom.status import STATUS_PENDING, code_to_category

from mppsconsole.core import profile as profiles
from mppsconsole.core.profile import FaultRule, Profile
from mppsconsole.net.scp_context import Peer, ScpContext
from mppsconsole.net.status import PROCESSING_FAILURE, SUCCESS, status_dataset

log = logging.getLogger(__name__)

#: Set on an association whose next final response is followed by an A-ABORT.
_ABORT_AFTER = "_mppsconsole_abort_after"
#: How long the abort waits for the response to leave (bounded; the DUL is quick).
_SEND_WAIT_S = 2.0


@dataclasses.dataclass(frozen=True)
class Injection:
    """What a handler does with one message after the profile has been consulted."""

    profile: Profile
    status: Dataset | None = None  # answer this instead of serving the request
    drop_report: bool = False  # storage commitment: no N-EVENT-REPORT


def activate(ctx: ScpContext, profile: Profile) -> None:
    """Make ``profile`` the running SCP's behaviour from the next message on."""
    ctx.profile.set(profile)
    origin = f" from {profile.source}" if profile.source else ""
    log.info("Server behaviour%s: %s, %d fault rule(s)", origin, profile.mode, len(profile.faults))
    for line in profiles.describe(profile):
        log.warning("Fault rule active: %s", line)


def inject(ctx: ScpContext, service: str, event: Event) -> Injection:
    """Consult the active profile once for this message; apply delays and aborts."""
    peer = Peer.of(event)
    profile, rules = ctx.profile.fire(service, peer.ae_title, event.assoc.requestor.address)
    status: Dataset | None = None
    drop = False
    for rule in rules:
        _announce(ctx, peer, service, rule)
        if rule.action == profiles.DELAY:
            time.sleep(rule.delay_ms / 1000)
        elif rule.action == profiles.STATUS and status is None:
            comment = rule.error_comment or f"Injected fault ({service})"
            status = status_dataset(rule.status, comment, rule.error_id)
        elif rule.action == profiles.ABORT:
            if rule.abort == profiles.BEFORE:
                event.assoc.abort(block=False)
                # The answer is never sent; nothing is stored either.
                status = status or status_dataset(
                    PROCESSING_FAILURE, "Association aborted (injected)"
                )
            else:
                setattr(event.assoc, _ABORT_AFTER, True)
        elif rule.action == profiles.DROP_REPORT:
            drop = True
    return Injection(profile, status, drop)


def _announce(ctx: ScpContext, peer: Peer, service: str, rule: FaultRule) -> None:
    log.warning("Injected fault for %s from %s: %s", service, peer, rule.describe())
    ctx.traffic(peer, service, "injected", rule.describe())


def handlers(ctx: ScpContext) -> list[tuple[Any, Any]]:
    """Event handlers for association faults and aborts after a response."""

    def on_requested(event: Event) -> None:
        _association_faults(ctx, event)

    return [
        (evt.EVT_REQUESTED, on_requested),
        (evt.EVT_DIMSE_SENT, _abort_if_marked),
    ]


def echo_handler(ctx: ScpContext) -> Callable[[Event], Dataset]:
    """The C-ECHO handler: Success unless the profile forces a status.

    A success is announced too (traffic log, audit trail); a forced status was by ``inject``.
    """

    def on_echo(event: Event) -> Dataset:
        forced = inject(ctx, "verification", event).status
        if forced is not None:
            return forced
        ctx.traffic(Peer.of(event), "C-ECHO", "0x0000")
        return status_dataset(SUCCESS)

    return on_echo


def _association_faults(ctx: ScpContext, event: Event) -> None:
    """Delay, reject or abort an association request before it is negotiated."""
    assoc = event.assoc
    if assoc.is_rejected or assoc.is_aborted:  # another EVT_REQUESTED handler ended it
        return
    primitive = assoc.requestor.primitive
    calling = primitive.calling_ae_title if primitive is not None else ""
    calling = (
        calling.decode("ascii", "replace") if isinstance(calling, bytes) else calling
    ).strip()
    peer = Peer(calling, f"{assoc.requestor.address}:{assoc.requestor.port}")
    _, rules = ctx.profile.fire("association", calling, assoc.requestor.address)
    for rule in rules:
        _announce(ctx, peer, "association", rule)
        if rule.action == profiles.DELAY:
            time.sleep(rule.delay_ms / 1000)
        elif rule.action == profiles.REJECT:
            assoc.acse.send_reject(*rule.reject)
            assoc.is_rejected = True
            evt.trigger(assoc, evt.EVT_REJECTED, {})
            assoc.kill()
            return
        elif rule.action == profiles.ABORT:
            assoc.acse.send_abort(0x00)
            assoc.kill()
            return


def _abort_if_marked(event: Event) -> None:
    """After the final response of a request marked "abort after", abort the association."""
    assoc = event.assoc
    status = getattr(event.message.command_set, "Status", None)
    if not getattr(assoc, _ABORT_AFTER, False) or status is None:
        return
    if code_to_category(int(status)) == STATUS_PENDING:  # a C-FIND match, not the end
        return
    setattr(assoc, _ABORT_AFTER, False)
    threading.Thread(
        target=_abort_once_sent, args=(assoc,), daemon=True, name="fault-abort"
    ).start()


def _abort_once_sent(assoc: Association) -> None:
    """EVT_DIMSE_SENT fires before the response is queued: let it reach the wire first."""
    deadline = time.monotonic() + _SEND_WAIT_S
    time.sleep(0.05)
    while not assoc.dul.to_provider_queue.empty() and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)  # the DUL writes what it took from the queue
    if assoc.is_established:
        assoc.abort()
