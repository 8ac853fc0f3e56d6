"""Modality Worklist C-FIND SCP over the local worklist.

Queries are answered from memory: the items are reloaded only when the
store's worklist version moved (any process, any change), and each item's
response is encoded once per requested-key layout and transfer syntax, then
reused (DESIGN.md §6: a 1000-match query ≥ 3× a naive pynetdicom handler).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable, Iterator

from pydicom.dataset import Dataset
from pynetdicom.events import Event
from pynetdicom.sop_class import ModalityWorklistInformationFind  # type: ignore[attr-defined]

from mppsconsole.core.audit import query_subject
from mppsconsole.core.matching import compile_query
from mppsconsole.core.worklist import FINISHED_STATUSES, WorklistItem
from mppsconsole.net import datasets, faults
from mppsconsole.net.cancel_watch import cancelled
from mppsconsole.net.encoded import Encoding, PreEncoded, encode
from mppsconsole.net.incoming import request_dataset
from mppsconsole.net.scp_context import Peer, ScpContext
from mppsconsole.net.status import CANCEL, PENDING, SUCCESS, status_dataset
from mppsconsole.store import worklist

log = logging.getLogger(__name__)

FindReply = tuple[int | Dataset, Dataset | None]
#: Bounds the response cache (items × layouts × syntaxes); cleared when full.
MAX_CACHED_RESPONSES = 50_000


def layout(ds: Dataset) -> Hashable:
    """The shape of an identifier: which keys (and sequence item keys) it asks for."""
    return tuple(
        (elem.tag, layout(elem.value[0]) if elem.VR == "SQ" and elem.value else None)
        for elem in ds
        if elem.keyword != "SpecificCharacterSet"
    )


class _Worklist:
    """The local worklist in memory, valid for one store version."""

    def __init__(self, version: int, items: list[WorklistItem]) -> None:
        self.version = version
        self.items = items
        self.responses: dict[tuple[int | None, Hashable, Encoding], bytes] = {}


class WorklistScp:
    def __init__(self, context: ScpContext) -> None:
        self.ctx = context
        self._lock = threading.Lock()
        self._current: _Worklist | None = None

    def _worklist(self) -> _Worklist:
        with self._lock, self.ctx.db.reading() as conn:
            version = worklist.version(conn)
            if self._current is None or self._current.version != version:
                self._current = _Worklist(version, worklist.list_items(conn))
            return self._current

    def _response(
        self,
        current: _Worklist,
        item: WorklistItem,
        identifier: Dataset,
        key: Hashable,
        encoding: Encoding,
    ) -> Dataset:
        cache_key = (item.id, key, encoding)
        encoded = current.responses.get(cache_key)
        if encoded is None:
            response = datasets.response_identifier(identifier, datasets.worklist_dataset(item))
            encoded = encode(response, encoding)
            if len(current.responses) >= MAX_CACHED_RESPONSES:
                current.responses.clear()
            current.responses[cache_key] = encoded
        return PreEncoded(encoded, encoding)

    def on_find(self, event: Event) -> Iterator[FindReply]:
        """Stream one pending response per matching item; stop on C-CANCEL."""
        peer = Peer.of(event)
        forced = faults.inject(self.ctx, "worklist", event).status
        if forced is not None:
            yield forced, None
            return
        try:
            identifier = request_dataset(event, "identifier")
            query = datasets.worklist_query(identifier)
            key = layout(identifier)
        except Exception as exc:  # undecodable identifier: the peer's fault
            yield status_dataset(0xC000, f"Cannot understand query: {exc}"), None
            return
        syntax = event.context.transfer_syntax
        encoding = (syntax.is_implicit_VR, syntax.is_little_endian, syntax.is_deflated)
        current = self._worklist()
        matcher = compile_query(query)
        hide = self.ctx.settings.hide_finished_worklist
        matches = [
            item
            for item in current.items
            if not (hide and item.status in FINISHED_STATUSES) and matcher(item)
        ]
        log.info("C-FIND worklist from %s: %d match(es)", peer, len(matches))
        keys = query_subject(query, ModalityWorklistInformationFind)
        self.ctx.traffic(peer, "C-FIND", "0xFF00", f"{len(matches)} match(es)", keys)
        for item in matches:
            if cancelled(event):
                log.info("C-FIND worklist from %s cancelled", peer)
                yield CANCEL, None
                return
            yield PENDING, self._response(current, item, identifier, key, encoding)
        yield SUCCESS, None
