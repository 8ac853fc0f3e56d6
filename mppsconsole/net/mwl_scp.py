"""Modality Worklist C-FIND SCP over the local worklist."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from pydicom.dataset import Dataset
from pynetdicom.events import Event

from mppsconsole.core.matching import select
from mppsconsole.net import datasets
from mppsconsole.net.scp_context import Peer, ScpContext
from mppsconsole.net.status import CANCEL, PENDING, SUCCESS, status_dataset
from mppsconsole.store import worklist

log = logging.getLogger(__name__)

FindReply = tuple[int | Dataset, Dataset | None]


class WorklistScp:
    def __init__(self, context: ScpContext) -> None:
        self.ctx = context

    def on_find(self, event: Event) -> Iterator[FindReply]:
        """Stream one pending response per matching item; stop on C-CANCEL."""
        peer = Peer.of(event)
        try:
            identifier = event.identifier
            query = datasets.worklist_query(identifier)
        except Exception as exc:  # undecodable identifier: the peer's fault
            yield status_dataset(0xC000, f"Cannot understand query: {exc}"), None
            return
        with self.ctx.db.reading() as conn:
            items = worklist.list_items(
                conn, include_finished=not self.ctx.settings.hide_finished_worklist
            )
        matches = select(items, query)
        log.info("C-FIND worklist from %s: %d match(es)", peer, len(matches))
        self.ctx.traffic(peer, "C-FIND", "0xFF00", f"{len(matches)} match(es)")
        for item in matches:
            if event.is_cancelled:
                log.info("C-FIND worklist from %s cancelled", peer)
                yield CANCEL, None
                return
            yield PENDING, datasets.response_identifier(identifier, datasets.worklist_dataset(item))
        yield SUCCESS, None
