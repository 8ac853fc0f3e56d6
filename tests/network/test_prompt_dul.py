"""The DUL wake-up of net/prompt_dul.py on real associations, from both of our ends.

What is checked is behaviour, not speed (that is bench/'s job): the DUL of an
association made prompt still answers back-to-back requests, idles in a
``select`` on its socket and wake-up pair (not in a plain sleep), and gives
the pair back when the association ends; any other thread keeps the plain
sleep pynetdicom's DUL module expects.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from typing import Any

import pytest
from pynetdicom import dul as pynetdicom_dul
from pynetdicom.presentation import build_context
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from mppsconsole.core.settings import Node
from mppsconsole.net import prompt_dul
from mppsconsole.net.association import associate as our_associate
from tests.conftest import LOOPBACK, RunningServer
from tests.network.conftest import create_step, mpps_association
from tests.network.peers import wait_until

WAKE = "_mppsconsole_wake"


def _node(scp: RunningServer) -> Node:
    return Node("self", scp.ae_title, LOOPBACK, scp.port)


def _closed(pairs: list[tuple[Any, Any]]) -> bool:
    return all(sock.fileno() == -1 for pair in pairs for sock in pair)


def test_our_scu_association_is_prompt_and_gives_its_sockets_back(scp: RunningServer) -> None:
    with our_associate("MODALITY1", _node(scp), [build_context(Verification)]) as assoc:
        pair = getattr(assoc.dul, WAKE)
        for _ in range(20):  # back-to-back requests, each answered
            assert int(assoc.send_c_echo().Status) == 0x0000
    assert wait_until(lambda: _closed([pair]), 10)


def test_the_scp_makes_every_accepted_association_prompt(scp: RunningServer) -> None:
    server = scp.server._server
    assert server is not None
    with mpps_association(scp) as assoc:
        assert wait_until(lambda: bool(server.active_associations), 5)
        accepted = list(server.active_associations)
        pairs = [getattr(a.dul, WAKE, None) for a in accepted]
        assert pairs and all(pair is not None for pair in pairs)
        for _ in range(10):
            create_step(assoc)
    assert wait_until(lambda: _closed([p for p in pairs if p is not None]), 10)


def test_a_prompt_dul_idles_in_select_and_other_threads_keep_sleeping(
    scp: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[tuple[str, int, float]] = []
    real_select = select.select

    def recording_select(r: Any, w: Any, x: Any, timeout: float | None = None) -> Any:
        if timeout:  # pynetdicom's own zero-timeout readiness checks are not idling
            waits.append((threading.current_thread().name, len(r), timeout))
        return real_select(r, w, x, timeout)

    monkeypatch.setattr(prompt_dul.select, "select", recording_select)
    with our_associate("MODALITY1", _node(scp), [build_context(Verification)]) as assoc:
        assert wait_until(lambda: len(waits) >= 5, 5), "no DUL idled in select"
        assert int(assoc.send_c_echo().Status) == 0x0000
    # Each idle wait watches the peer's socket and the wake-up pair (woken by either).
    idle = prompt_dul.IDLE_WAIT_S
    assert all(count == 2 and timeout == pytest.approx(idle) for _, count, timeout in waits)
    # Any other thread (here: the test's) sleeps as pynetdicom's DUL module expects.
    before = len(waits)
    started = time.monotonic()
    pynetdicom_dul.time.sleep(0.02)
    assert time.monotonic() - started >= 0.02
    assert len(waits) == before


def test_a_put_from_another_thread_wakes_the_dul_and_its_own_puts_do_not() -> None:
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    dul = threading.Thread(target=lambda: None)
    queue = prompt_dul._WakingQueue(dul, writer)
    try:
        queue.put("Evt19")  # e.g. an abort asked by a handler thread
        assert select.select([reader], [], [], 1)[0] == [reader]
        assert reader.recv(16) == b"\0"
        own = threading.Thread(target=queue.put, args=("Evt17",))
        queue._dul = own  # the DUL itself putting: it is awake, no byte needed
        own.start()
        own.join()
        assert select.select([reader], [], [], 0.05)[0] == []
        assert [queue.get_nowait(), queue.get_nowait()] == ["Evt19", "Evt17"]
    finally:
        reader.close()
        writer.close()
