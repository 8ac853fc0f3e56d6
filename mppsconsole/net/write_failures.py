"""A disk that refuses a write, as a peer, the log and the window should hear it.

Nothing was stored (the transaction rolled back, the file was not renamed
into place), so the peer gets a failure status with an Error Comment, the log
an error, and the window an alert on the Traffic event: a full disk must not
pass as one more line in the traffic log while the modality keeps retrying.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom.events import Event

from mppsconsole.core.errors import WriteFailed
from mppsconsole.net.scp_context import Peer, ScpContext
from mppsconsole.net.status import PROCESSING_FAILURE, status_dataset

log = logging.getLogger(__name__)


def refused(ctx: ScpContext, peer: Peer, command: str, code: int, reason: str) -> Dataset:
    """Log, announce with an alert, and build the failure status for the peer."""
    log.error("%s from %s not stored: %s", command, peer, reason)
    status = status_dataset(code, f"Out of resources: {reason}"[:64])
    ctx.traffic(peer, command, f"0x{code:04X}", reason, alert=reason)
    return status


def answered(ctx: ScpContext, command: str, handler: Callable[[Event], Any]) -> Callable[..., Any]:
    """``handler`` (an N-* handler returning (status, data set)), answering WriteFailed."""

    @functools.wraps(handler)
    def guarded(event: Event) -> Any:
        try:
            return handler(event)
        except WriteFailed as exc:
            reason = str(exc.__cause__ or exc)
            return refused(ctx, Peer.of(event), command, PROCESSING_FAILURE, reason), None

    return guarded
