"""The audit trail's vocabulary: ATNA event types, audit records, and de-identification.

Modelled on the IHE ATNA / DICOM PS3.15 Annex A.5 audit messages without a
syslog server: each record keeps the fields an ATNA message would carry (event
type with its DCM code, action code, outcome indicator, the active participant,
the object acted on) as one flat row, so the trail can be queried in SQLite and
exported as JSON lines. This module is pure: it maps our events to records; the
store writes them and the faces (net, GUI, CLI) only hand records over.

Patient identifiers sit in their own fields (``patient_id``, ``patient_name``,
``accession``) and never in ``detail``, so an export can drop or pseudonymise
them without parsing free text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from mppsconsole.core.events import Subject, Traffic
from mppsconsole.core.matching import WorklistQuery


@dataclasses.dataclass(frozen=True)
class EventType:
    """An ATNA event type: its name and its code in the DCM coding scheme (PS3.16 CID 400)."""

    name: str
    code: str


APPLICATION_ACTIVITY = EventType("Application Activity", "110100")
BEGIN_TRANSFERRING = EventType("Begin Transferring DICOM Instances", "110102")
INSTANCES_TRANSFERRED = EventType("DICOM Instances Transferred", "110104")
EXPORT = EventType("Export", "110106")
ORDER_RECORD = EventType("Order Record", "110109")
PROCEDURE_RECORD = EventType("Procedure Record", "110111")
QUERY = EventType("Query", "110112")
SECURITY_ALERT = EventType("Security Alert", "110113")

# Event Action Codes (PS3.15 A.5.1): Create, Read, Update, Delete, Execute.
CREATE, READ, UPDATE, DELETE, EXECUTE = "C", "R", "U", "D", "E"
# Event Outcome Indicators: success, minor failure (refused, nothing changed),
# serious failure (the action could not be carried out), major failure (unused here).
SUCCESS, MINOR_FAILURE, SERIOUS_FAILURE, MAJOR_FAILURE = 0, 4, 8, 12

USER, PEER = "user", "peer"

#: DIMSE command -> (event type, action) for messages the SCP answers. C-STORE
#: received is an instance transferred to us; sent, the transfer we begin. The
#: association itself and C-ECHO are application activity (no object acted on).
_RECEIVED: Mapping[str, tuple[EventType, str]] = {
    "ASSOCIATE": (APPLICATION_ACTIVITY, EXECUTE),
    "RELEASE": (APPLICATION_ACTIVITY, EXECUTE),
    "ABORT": (APPLICATION_ACTIVITY, EXECUTE),
    "C-ECHO": (APPLICATION_ACTIVITY, EXECUTE),
    "N-CREATE": (PROCEDURE_RECORD, CREATE),
    "N-SET": (PROCEDURE_RECORD, UPDATE),
    "N-GET": (PROCEDURE_RECORD, READ),
    "C-FIND": (QUERY, EXECUTE),
    "C-STORE": (INSTANCES_TRANSFERRED, CREATE),
    # Storage commitment vouches for transferred instances (request and its report).
    "N-ACTION": (INSTANCES_TRANSFERRED, EXECUTE),
    "N-EVENT-REPORT": (INSTANCES_TRANSFERRED, EXECUTE),
}
_SENT: Mapping[str, tuple[EventType, str]] = {
    **_RECEIVED,
    "C-STORE": (BEGIN_TRANSFERRING, EXECUTE),
}

#: The fields an export can leave out: they identify the patient.
PATIENT_FIELDS = ("patient_id", "patient_name", "accession", "birth_date")


@dataclasses.dataclass(frozen=True)
class AuditRecord:
    """One audited event: who did what, when, with which outcome."""

    time: dt.datetime  # UTC
    event: EventType
    action: str  # C / R / U / D / E
    outcome: int  # 0 / 4 / 8 / 12
    who_kind: str  # "user" (this console's local user) or "peer" (a calling AE)
    who: str  # OS user name, or AE@address
    command: str  # DIMSE command, association event, or manual action name
    peer: str = ""  # the other network party (AE@address), when there is one
    status: str = ""  # DICOM status answered/received ("0x0000"), or a short outcome text
    sop_class: str = ""
    instance_uid: str = ""  # SOP instance, step or study UID acted on
    detail: str = ""  # free text free of patient identifiers
    patient_id: str = ""
    patient_name: str = ""
    accession: str = ""

    def to_json(self) -> dict[str, Any]:
        """The documented JSON-lines object: every key always present, in this order."""
        return {
            "time": self.time.astimezone(dt.UTC).isoformat(timespec="milliseconds"),
            "event_type": self.event.name,
            "event_code": self.event.code,
            "action": self.action,
            "outcome": self.outcome,
            "who_kind": self.who_kind,
            "who": self.who,
            "peer": self.peer,
            "command": self.command,
            "status": self.status,
            "sop_class": self.sop_class,
            "instance_uid": self.instance_uid,
            "detail": self.detail,
            "patient_id": self.patient_id,
            "patient_name": self.patient_name,
            "accession": self.accession,
        }


def query_subject(query: WorklistQuery, sop_class: str = "") -> Subject:
    """What a worklist query was about: the patient keys it asked for."""
    return Subject(
        sop_class,
        patient_id=query.patient_id,
        patient_name=query.patient_name,
        accession=query.accession_number,
    )


def utc_now() -> dt.datetime:
    """Audit times are UTC: one clock for every machine whose trails are compared."""
    return dt.datetime.now(dt.UTC)


def local_user() -> str:
    """The OS account acting at this console (ATNA: the human requestor)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (some containers, services)
        return "unknown"


def outcome_of(status: str) -> int:
    """ATNA outcome from a traffic status: a DICOM status word or an association event.

    Success and warnings (0x0000, 0xBxxx, pending 0xFF0x) are success; a refusal
    that changed nothing (0x01xx, 0xAxxx, a rejection or abort) is a minor
    failure; processing failures (0x0110, 0x0272, 0xCxxx) and anything that is
    not a status (an error text) are serious failures.
    """
    text = status.strip().lower()
    if text in ("accepted", "released", "sent", "ok"):
        return SUCCESS
    if text.startswith(("rejected", "aborted", "refused", "cancelled")):
        return MINOR_FAILURE
    try:
        word = int(text, 16)
    except ValueError:
        return SERIOUS_FAILURE
    if word == 0 or 0xB000 <= word <= 0xBFFF or word in (0xFF00, 0xFF01):
        return SUCCESS
    if word in (0x0110, 0x0272) or 0xC000 <= word <= 0xCFFF:
        return SERIOUS_FAILURE
    return MINOR_FAILURE


def from_traffic(line: Traffic, user: str | None = None) -> AuditRecord:
    """The audit record of one traffic line (an association event or a DIMSE message).

    A message a peer sent us is done by that peer; one we sent is done by the
    local user, with the peer as the other party. A rejected association is a
    Security Alert (someone tried to reach us and was refused).
    """
    received = line.direction == "in"
    table = _RECEIVED if received else _SENT
    event, action = table.get(line.command, (APPLICATION_ACTIVITY, EXECUTE))
    if line.command == "ASSOCIATE" and line.status.startswith("rejected"):
        event = SECURITY_ALERT
    return AuditRecord(
        time=line.time.astimezone(dt.UTC),
        event=event,
        action=action,
        outcome=outcome_of(line.status),
        who_kind=PEER if received else USER,
        who=line.peer if received else (user or local_user()),
        command=line.command,
        peer=line.peer,
        status=line.status,
        detail=line.detail,
        **dataclasses.asdict(line.subject or Subject()),
    )


def manual(
    event: EventType,
    action: str,
    command: str,
    *,
    outcome: int = SUCCESS,
    status: str = "ok",
    subject: Subject | None = None,
    peer: str = "",
    detail: str = "",
    user: str | None = None,
) -> AuditRecord:
    """A record of something the local user did in the window or on the command line."""
    return AuditRecord(
        time=utc_now(),
        event=event,
        action=action,
        outcome=outcome,
        who_kind=USER,
        who=user or local_user(),
        command=command,
        peer=peer,
        status=status,
        detail=detail,
        **dataclasses.asdict(subject or Subject()),
    )


class Pseudonymizer:
    """Replaces patient identifiers by stable pseudonyms, keyed per export run.

    Within one export the same patient always gets the same pseudonym, so the
    records of one patient still read as one story. The key is random and never
    stored: patient IDs and accession numbers come from small, guessable spaces,
    so an unkeyed hash could be reversed by hashing every candidate; with a
    secret key nobody (us included) can link a pseudonym back to the patient or
    across two exports.
    """

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)

    def pseudonym(self, field: str, value: str) -> str:
        if not value:
            return ""
        digest = hmac.new(self._key, f"{field}\0{value}".encode(), hashlib.sha256)
        return f"anon-{digest.hexdigest()[:12]}"

    def record(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of a JSON object with every patient field pseudonymised (same keys)."""
        out = dict(obj)
        for field in PATIENT_FIELDS:
            if field in out and isinstance(out[field], str):
                out[field] = self.pseudonym(field, out[field])
        return out

    def text(self, text: str, identifiers: Iterable[tuple[str, str]]) -> str:
        """``text`` with every identifier ``(field, value)`` replaced by its pseudonym.

        For free text such as a traffic log line, where the identifiers known
        to the caller (from the store) are looked for literally; longest first,
        so a name is not half-replaced through one of its parts.
        """
        for field, value in sorted(identifiers, key=lambda fv: -len(fv[1])):
            if value:
                text = text.replace(value, self.pseudonym(field, value))
        return text
