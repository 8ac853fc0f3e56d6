"""C-ECHO: is the node there and does it accept us?"""

from __future__ import annotations

import time

from pynetdicom.presentation import build_context
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from mppsconsole.core.errors import PeerError
from mppsconsole.core.settings import Node
from mppsconsole.net.association import associate, check_response
from mppsconsole.net.status import describe, is_success


def echo(local_ae_title: str, node: Node) -> float:
    """Round trip of association + C-ECHO + release, in seconds; PeerError says what failed."""
    started = time.perf_counter()
    with associate(
        local_ae_title, node, [build_context(Verification)], required=[Verification]
    ) as assoc:
        status = assoc.send_c_echo()
        code = check_response(status, "C-ECHO", node)
        if not is_success(code):
            raise PeerError(f"C-ECHO refused by {node.ae_title}: {describe(status)}")
    return time.perf_counter() - started
