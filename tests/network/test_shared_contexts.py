"""Accepted associations share the server's presentation contexts (net/shared_contexts.py)."""

from __future__ import annotations

from pynetdicom.presentation import PresentationContext
from pynetdicom.sop_class import CTImageStorage  # type: ignore[attr-defined]

from mppsconsole.net.shared_contexts import SharedContexts
from tests.conftest import RunningServer
from tests.network.conftest import create_step, mpps_association


def _snapshot(contexts: list[PresentationContext]) -> list[tuple[object, ...]]:
    return [
        (c.context_id, c.abstract_syntax, tuple(c.transfer_syntax), c.scu_role, c.scp_role)
        for c in contexts
    ]


def test_associations_use_the_server_contexts_without_copying_or_changing_them(
    scp: RunningServer,
) -> None:
    server = scp.server._server
    assert server is not None
    assert isinstance(server.contexts, SharedContexts)
    assert any(c.abstract_syntax == CTImageStorage for c in server.contexts)
    before = _snapshot(server.contexts)
    with mpps_association(scp) as assoc:
        create_step(assoc)
        (accepted,) = server.active_associations
        # pynetdicom deep-copies server.contexts for each association; ours answers with
        # the same context objects. If pynetdicom copies some other way, this fails.
        shared = accepted.acceptor.supported_contexts
        assert len(shared) == len(server.contexts)
        assert all(a is b for a, b in zip(shared, server.contexts, strict=True))
    # ... and negotiation must not change them, since every association now sees them.
    assert _snapshot(server.contexts) == before
