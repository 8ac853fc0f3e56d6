"""The profile's mode applied to MPPS requests: refuse (strict) or tolerate (lenient).

Three things real modalities send that PS3.4 Table F.7.2-1 does not allow:
an N-CREATE without some Type 2 attributes, an N-SET of an attribute the
N-CREATE did not create, and an empty Performed Station AE Title (Type 1; the
station AE a step is matched and shown by). The strict profile refuses them:
0120 naming the missing attribute; 0105 No Such Attribute for the N-SET (the
SOP Instance has no such attribute to modify; every attribute N-SET may change
is Type 2 at N-CREATE precisely so that it exists); 0121 for the empty AE
title. The lenient profile accepts them, fills the AE title from the calling
AE title, and says what it tolerated in the log (INFO) and the traffic log.
"""

from __future__ import annotations

import logging

from mppsconsole.core import mpps
from mppsconsole.core.attributes import Attributes, is_empty
from mppsconsole.core.errors import Refusal, ServiceError
from mppsconsole.core.profile import Profile
from mppsconsole.net.json_attributes import JsonAttributes, JsonDict, with_text
from mppsconsole.net.scp_context import Peer, ScpContext

log = logging.getLogger(__name__)


def check_create(profile: Profile, data: JsonDict, peer: Peer) -> tuple[JsonDict, list[str]]:
    """Apply the MPPS rules to an N-CREATE: (its attributes, the station AE filled in if
    the profile did so; what was tolerated)."""
    tolerated = []
    ds = JsonAttributes(data)
    if profile.lenient and is_empty(ds.get("PerformedStationAETitle")) and peer.ae_title:
        data = with_text(data, "PerformedStationAETitle", "AE", peer.ae_title)
        ds = JsonAttributes(data)
        tolerated.append(f"empty PerformedStationAETitle set to {peer.ae_title}")
    mpps.check_create(ds)
    if not profile.lenient:
        mpps.check_type2(ds)
    else:
        missing = mpps.missing_type2(ds)
        if missing:
            tolerated.append("missing Type 2 " + ", ".join(missing))
    return data, tolerated


def check_set(profile: Profile, created: Attributes, keywords: list[str]) -> list[str]:
    """Apply the profile to the attributes an N-SET changes; what was tolerated."""
    absent = mpps.not_created(created, keywords)
    if absent and not profile.lenient:
        raise ServiceError(
            Refusal.NO_SUCH_ATTRIBUTE, "Not created by N-CREATE: " + ", ".join(absent)
        )
    return ["not created by N-CREATE: " + ", ".join(absent)] if absent else []


def report(ctx: ScpContext, peer: Peer, command: str, uid: str, tolerated: list[str]) -> None:
    """Tell the log and the traffic log what the lenient profile let through."""
    for note in tolerated:
        log.info("%s %s from %s tolerated (lenient): %s", command, uid, peer, note)
        ctx.traffic(peer, command, "tolerated", f"{uid} lenient: {note}")
