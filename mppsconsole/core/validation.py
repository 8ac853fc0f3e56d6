"""Validation findings: the complete, soft report on a procedure step.

:mod:`mppsconsole.core.mpps` refuses what a conformant SCP must refuse; this
module reports everything else a reviewer would flag, without refusing
anything: missing Type 2 attributes, what a lenient peer let through, a final
state without the instances stored for the step, and IHE RAD TF-2 Appendix A
consistency (worklist values copied unchanged into the step and its images).
It runs on received and sent steps alike and reads datasets only through the
:class:`~mppsconsole.core.attributes.Attributes` protocol.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from mppsconsole.core import mpps
from mppsconsole.core.attributes import Attributes, is_empty, items, text
from mppsconsole.core.step import referenced_instances, scheduled_references
from mppsconsole.core.worklist import WorklistItem

ERROR = "error"
WARNING = "warning"
INFO = "info"
#: Severities, worst first.
SEVERITIES = (ERROR, WARNING, INFO)


def worst(found: Iterable[Finding]) -> str:
    """The worst severity among ``found`` ('' for none)."""
    present = {f.severity for f in found}
    return next((s for s in SEVERITIES if s in present), "")


TABLE_F72_1 = "PS3.4 Table F.7.2-1"
TABLE_F72_2 = "PS3.4 Table F.7.2-2"
STATE_MACHINE = "PS3.4 F.7.2.2.2"
APPENDIX_A = "IHE RAD TF-2 Appendix A"
#: RAD-7 "Modality Procedure Step Completed": the final N-SET lists the instances created.
RAD7 = "IHE RAD TF-2 4.7"

#: Type 2 at N-CREATE (Table F.7.2-1): present, possibly empty.
CREATE_TYPE2 = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "ReferencedPatientSequence",
    "PerformedStationName",
    "PerformedLocation",
    "PerformedProcedureStepEndDate",
    "PerformedProcedureStepEndTime",
    "PerformedProcedureStepDescription",
    "PerformedProcedureTypeDescription",
    "ProcedureCodeSequence",
    "PerformedSeriesSequence",
    "StudyID",
)
#: Type 2 at N-CREATE inside each Scheduled Step Attributes Sequence item.
SCHEDULED_STEP_TYPE2 = (
    "AccessionNumber",
    "ReferencedStudySequence",
    "RequestedProcedureID",
    "RequestedProcedureDescription",
    "ScheduledProcedureStepID",
    "ScheduledProcedureStepDescription",
    "ScheduledProtocolCodeSequence",
)

#: Attributes of the step that Appendix A wants equal to the worklist item's.
PATIENT_KEYS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex")
#: Scheduled Step Attributes Sequence item keys -> the worklist item field they copy.
ORDER_KEYS = (
    ("StudyInstanceUID", "study_instance_uid"),
    ("AccessionNumber", "accession_number"),
    ("RequestedProcedureID", "requested_procedure_id"),
    ("ScheduledProcedureStepID", "scheduled_step_id"),
)
_PATIENT_FIELDS = {
    "PatientName": "patient_name",
    "PatientID": "patient_id",
    "PatientBirthDate": "birth_date",
    "PatientSex": "sex",
}


@dataclasses.dataclass(frozen=True)
class Finding:
    """One thing wrong or worth noting about a step, with the rule it comes from."""

    severity: str
    attribute: str
    message: str
    rule: str

    def to_json(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def _presence(
    attrs: Attributes, type1: Sequence[str], type2: Sequence[str], where: str
) -> list[Finding]:
    found = []
    for keyword in type1:
        if keyword not in attrs:
            found.append(Finding(ERROR, keyword, f"Type 1 attribute missing{where}", TABLE_F72_1))
        elif is_empty(attrs.get(keyword)):
            found.append(Finding(ERROR, keyword, f"Type 1 attribute empty{where}", TABLE_F72_1))
    found.extend(
        Finding(WARNING, keyword, f"Type 2 attribute missing{where}", TABLE_F72_1)
        for keyword in type2
        if keyword not in attrs
    )
    return found


def check_create(attrs: Attributes) -> list[Finding]:
    """Findings on an N-CREATE attribute list."""
    found = _presence(attrs, mpps.CREATE_TYPE1, CREATE_TYPE2, " at N-CREATE")
    for item in items(attrs, "ScheduledStepAttributesSequence"):
        found.extend(
            _presence(
                item,
                mpps.SCHEDULED_STEP_TYPE1,
                SCHEDULED_STEP_TYPE2,
                " in ScheduledStepAttributesSequence",
            )
        )
    status = text(attrs, "PerformedProcedureStepStatus")
    if status and status != mpps.IN_PROGRESS:
        found.append(
            Finding(
                ERROR,
                "PerformedProcedureStepStatus",
                f"N-CREATE with status {status}, not IN PROGRESS",
                STATE_MACHINE,
            )
        )
    return found


def check_set(keywords: Iterable[str]) -> list[Finding]:
    """Findings on an N-SET modification list (``keywords``: its top-level attributes)."""
    found = []
    for keyword in keywords:
        if keyword in mpps.SETTABLE:
            continue
        if keyword in mpps.CREATE_ONLY:
            found.append(Finding(ERROR, keyword, "not permitted in N-SET", TABLE_F72_1))
        else:
            found.append(Finding(ERROR, keyword, "not an MPPS attribute", TABLE_F72_1))
    return found


def check_final_state(attrs: Attributes) -> list[Finding]:
    """Final-state requirements of a COMPLETED or DISCONTINUED step (instances aside)."""
    status = text(attrs, "PerformedProcedureStepStatus")
    if status not in mpps.FINAL_STATUSES:
        return []
    found = [
        Finding(ERROR, keyword, f"required for {status}", TABLE_F72_1)
        for keyword in ("PerformedProcedureStepEndDate", "PerformedProcedureStepEndTime")
        if is_empty(attrs.get(keyword))
    ]
    series = items(attrs, "PerformedSeriesSequence")
    if status == mpps.COMPLETED and not series:
        found.append(
            Finding(
                ERROR, "PerformedSeriesSequence", f"no performed series for {status}", TABLE_F72_1
            )
        )
    for number, item in enumerate(series, start=1):
        found.extend(
            Finding(ERROR, keyword, f"empty in performed series {number}", TABLE_F72_2)
            for keyword in mpps.SERIES_TYPE1
            if is_empty(item.get(keyword))
        )
    if status == mpps.COMPLETED and series and not referenced_uids(attrs):
        found.append(
            Finding(WARNING, "ReferencedImageSequence", "COMPLETED without any instance", RAD7)
        )
    return found


def referenced_uids(attrs: Attributes) -> set[str]:
    """SOP Instance UIDs the step's Performed Series Sequence lists."""
    return {sop for _, sop in referenced_instances(attrs)} - {""}


def unreferenced(sop_instance_uid: str) -> Finding:
    """A final step leaves out an instance stored for it."""
    return Finding(
        ERROR, "PerformedSeriesSequence", f"stored instance {sop_instance_uid} not referenced", RAD7
    )


def check_references(attrs: Attributes, stored_instances: Iterable[str]) -> dict[str, Finding]:
    """By SOP Instance UID: what a final step and the instances stored for it disagree on.

    ``stored_instances`` are those received by our SCP, or sent by our modality
    side, for the step. A referenced instance not stored may still be on its
    way (a warning); a stored one left out is an error.
    """
    if text(attrs, "PerformedProcedureStepStatus") not in mpps.FINAL_STATUSES:
        return {}
    referenced, stored = referenced_uids(attrs), set(stored_instances)
    found = {uid: unreferenced(uid) for uid in sorted(stored - referenced)}
    for uid in sorted(referenced - stored):
        found[uid] = Finding(
            WARNING, "ReferencedSOPInstanceUID", f"instance {uid} referenced, not stored", RAD7
        )
    return found


def check_worklist(attrs: Attributes, orders: Sequence[WorklistItem | None]) -> list[Finding]:
    """Appendix A: worklist values copied unchanged into the step.

    ``orders[i]`` is the worklist item the i-th Scheduled Step Attributes
    Sequence item refers to, or None when no order of ours matches (an
    unscheduled step, or another RIS's order): only noted, as info.
    """
    found: list[Finding] = []
    scheduled = items(attrs, "ScheduledStepAttributesSequence")
    patient_checked = False
    for number, (item, order) in enumerate(zip(scheduled, orders, strict=False), start=1):
        if order is None:
            if text(item, "ScheduledProcedureStepID") or text(item, "AccessionNumber"):
                found.append(
                    Finding(
                        INFO,
                        "ScheduledStepAttributesSequence",
                        f"scheduled item {number} matches no order in the worklist",
                        APPENDIX_A,
                    )
                )
            continue
        for keyword, field in ORDER_KEYS:
            expected, actual = str(getattr(order, field)), text(item, keyword)
            if actual != expected:
                found.append(
                    Finding(
                        ERROR,
                        keyword,
                        f"{actual!r} in scheduled item {number}, worklist has {expected!r}",
                        APPENDIX_A,
                    )
                )
        if not patient_checked:
            patient_checked = True
            found.extend(_compare_patient(attrs, order))
    return found


def _compare_patient(attrs: Attributes, order: WorklistItem) -> list[Finding]:
    found = []
    for keyword in PATIENT_KEYS:
        expected, actual = getattr(order, _PATIENT_FIELDS[keyword]), text(attrs, keyword)
        if actual != expected:
            found.append(
                Finding(
                    ERROR,
                    keyword,
                    f"{actual!r} in the step, worklist has {expected!r}",
                    APPENDIX_A,
                )
            )
    return found


def check_instance(step: Attributes, instance: Attributes, sop_instance_uid: str) -> list[Finding]:
    """Appendix A: an image of the step carries the step's patient and study unchanged."""
    found = []
    for keyword in PATIENT_KEYS:
        expected, actual = text(step, keyword), text(instance, keyword)
        if actual != expected:
            found.append(
                Finding(
                    ERROR,
                    keyword,
                    f"{actual!r} in instance {sop_instance_uid}, step has {expected!r}",
                    APPENDIX_A,
                )
            )
    orders = scheduled_references(step)
    study = text(instance, "StudyInstanceUID")
    if orders and study not in {o[0] for o in orders}:
        found.append(
            Finding(
                ERROR,
                "StudyInstanceUID",
                f"instance {sop_instance_uid} is in study {study}, not the step's",
                APPENDIX_A,
            )
        )
    found.extend(_check_requests(step, instance, sop_instance_uid))
    accessions = {o[2] for o in orders}
    accession = text(instance, "AccessionNumber")
    if orders and accession not in accessions:
        found.append(
            Finding(
                ERROR,
                "AccessionNumber",
                f"{accession!r} in instance {sop_instance_uid}, step has "
                f"{', '.join(sorted(map(repr, accessions)))}",
                APPENDIX_A,
            )
        )
    return found


def _check_requests(step: Attributes, instance: Attributes, sop_instance_uid: str) -> list[Finding]:
    """The image's Request Attributes Sequence names scheduled items of its step."""
    scheduled = {
        (text(item, "RequestedProcedureID"), text(item, "ScheduledProcedureStepID"))
        for item in items(step, "ScheduledStepAttributesSequence")
    }
    if not any(sps for _, sps in scheduled):
        return []  # unscheduled: nothing for the image to copy
    requests = items(instance, "RequestAttributesSequence")
    if not requests:
        return [
            Finding(
                WARNING,
                "RequestAttributesSequence",
                f"missing in instance {sop_instance_uid} of a scheduled step",
                APPENDIX_A,
            )
        ]
    found = []
    for request in requests:
        pair = (text(request, "RequestedProcedureID"), text(request, "ScheduledProcedureStepID"))
        if pair not in scheduled:
            found.append(
                Finding(
                    ERROR,
                    "RequestAttributesSequence",
                    f"procedure {pair[0]!r} / step {pair[1]!r} in instance {sop_instance_uid} "
                    "is not scheduled in the step",
                    APPENDIX_A,
                )
            )
    return found
