"""Mutated P-DATA-TF PDUs (valid N-CREATE / C-STORE messages, bytes changed) against the SCP.

Bounded: a fixed seed, a fixed number of cases, a short wait for each answer.
Afterwards the server must serve a normal modality, no handler may have raised
(pynetdicom logs that as "Exception in ... handler"), and every step in the
store must be whole: created by an N-CREATE that was answered Success.
"""

from __future__ import annotations

import logging
import random

import pytest
from pydicom.uid import generate_uid

from mppsconsole.store import steps
from tests.conftest import RunningServer
from tests.e2e import peer
from tests.network import raw_peer
from tests.network.conftest import create_dataset, ct_image
from tests.network.test_hostile_input import assert_still_serving

CASES = 40
CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(out)) if out else 0
        action = rng.choice(["flip", "cut", "insert", "length"])
        if action == "flip" and out:
            out[at] ^= rng.randint(1, 255)
        elif action == "cut":
            del out[at:]
        elif action == "insert":
            out[at:at] = rng.randbytes(rng.randint(1, 32))
        elif action == "length" and at + 4 <= len(out):
            out[at : at + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x00\x01"])
    return bytes(out)


def messages(rng: random.Random) -> tuple[str, bytes]:
    """(abstract syntax, the PDUs of one valid request) to mutate."""
    if rng.random() < 0.7:
        uid = generate_uid()
        command = raw_peer.n_create(uid)
        data = raw_peer.encoded(create_dataset())
        abstract = peer.MPPS_CLASS
    else:
        image = ct_image(size=16)
        command = raw_peer.command_bytes(
            AffectedSOPClassUID=CT_STORAGE,
            CommandField=0x0001,
            MessageID=1,
            Priority=0,
            CommandDataSetType=0x0001,
            AffectedSOPInstanceUID=image.SOPInstanceUID,
        )
        data = raw_peer.encoded(image)
        abstract = CT_STORAGE
    pdus = peer.p_data_pdu(command, command=True, last=True)
    pdus += peer.p_data_pdu(data, command=False, last=True)
    return abstract, pdus


def test_mutated_p_data_never_breaks_the_server(
    scp: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="pynetdicom")
    rng = random.Random(20261122)
    answered = aborted = 0
    for _ in range(CASES):
        abstract, pdus = messages(rng)
        assoc = raw_peer.RawAssociation(scp.port, abstract)
        try:
            assoc.sock.settimeout(0.3)
            assoc.sock.sendall(mutate(rng, pdus))
            reply = assoc.receive()
        except OSError:
            reply = raw_peer.Reply(closed=True)
        finally:
            assoc.close()
        answered += reply.command is not None
        aborted += reply.aborted
    assert answered > CASES // 10 and aborted + answered < CASES  # both kinds happened

    assert_still_serving(scp)
    raised = [r.getMessage() for r in caplog.records if "handler" in r.getMessage()]
    assert not raised, raised
    with scp.db.reading() as conn:
        stored = steps.list_steps(conn)
        for summary in stored:
            history = steps.messages(conn, summary.sop_instance_uid)
            assert history[0].command == "N-CREATE" and history[0].status == 0, history
