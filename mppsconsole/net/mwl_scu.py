"""Modality Worklist query (IHE RAD-5) with a result cap and user cancellation."""

from __future__ import annotations

import dataclasses
import logging
import threading

from pynetdicom.presentation import build_context
from pynetdicom.sop_class import ModalityWorklistInformationFind  # type: ignore[attr-defined]

from mppsconsole.core.errors import PeerError
from mppsconsole.core.matching import WorklistQuery
from mppsconsole.core.settings import Node
from mppsconsole.core.worklist import WorklistItem
from mppsconsole.net.association import associate, check_response
from mppsconsole.net.datasets import item_from_dataset, worklist_identifier
from mppsconsole.net.status import PENDING, describe, is_success

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 500
_MESSAGE_ID = 1


@dataclasses.dataclass(frozen=True)
class QueryResult:
    items: list[WorklistItem]
    truncated: bool  # the cap was reached and the rest cancelled
    cancelled: bool  # the user stopped the query


def query_worklist(
    local_ae_title: str,
    node: Node,
    query: WorklistQuery,
    *,
    limit: int = DEFAULT_LIMIT,
    cancel: threading.Event | None = None,
) -> QueryResult:
    """Items matching ``query``; C-CANCEL once ``limit`` items arrived or ``cancel`` is set."""
    items: list[WorklistItem] = []
    cancel_sent = truncated = cancelled = False
    with associate(
        local_ae_title,
        node,
        [build_context(ModalityWorklistInformationFind)],
        required=[ModalityWorklistInformationFind],
    ) as assoc:
        responses = assoc.send_c_find(
            worklist_identifier(query), ModalityWorklistInformationFind, msg_id=_MESSAGE_ID
        )
        for status, identifier in responses:
            code = check_response(status, "C-FIND", node)
            if code in (PENDING, 0xFF01):
                if identifier is not None and not cancel_sent:
                    items.append(item_from_dataset(identifier, node.name))
                wants_stop = len(items) >= limit or (cancel is not None and cancel.is_set())
                if wants_stop and not cancel_sent:
                    truncated = len(items) >= limit
                    cancelled = not truncated
                    assoc.send_c_cancel(_MESSAGE_ID, query_model=ModalityWorklistInformationFind)
                    cancel_sent = True
            elif code == 0xFE00:
                break
            elif not is_success(code):
                raise PeerError(f"worklist query refused by {node.ae_title}: {describe(status)}")
    log.info(
        "worklist query to %s: %d item(s)%s",
        node.name,
        len(items),
        " (truncated)" if truncated else "",
    )
    return QueryResult(items=items, truncated=truncated, cancelled=cancelled)
