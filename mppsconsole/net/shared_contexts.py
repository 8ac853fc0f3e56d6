"""Let every association share the server's presentation contexts instead of a deep copy.

pynetdicom 3.0.4's ``RequestHandler._create_association`` gives each accepted
association ``deepcopy(server.contexts)``. Our server supports every storage
class besides the service classes, ~170 contexts, and the copy cost ~50 ms per
association: a third of an association-per-step MPPS exchange. Negotiation only
reads the acceptor's contexts (``presentation.negotiate_as_acceptor`` builds new
result contexts), so a shallow copy of the list is as safe. We make the server's
list answer ``deepcopy`` with one. tests/network/test_shared_contexts.py fails if
pynetdicom stops copying this way or starts changing the shared contexts.
"""

from __future__ import annotations

from typing import Any

from pynetdicom.presentation import PresentationContext
from pynetdicom.transport import ThreadedAssociationServer


class SharedContexts(list[PresentationContext]):
    """A context list whose deep copy is a new list of the same (never modified) contexts."""

    def __deepcopy__(self, memo: dict[int, Any]) -> list[PresentationContext]:
        return list(self)


def share_contexts(server: ThreadedAssociationServer) -> None:
    """Make associations ``server`` accepts from now on share its contexts."""
    server.contexts = SharedContexts(server.contexts)
