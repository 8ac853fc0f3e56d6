"""pydicom Dataset <-> stored JSON and domain models."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from pydicom.dataelem import DataElement, empty_value_for_VR
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.valuerep import AMBIGUOUS_VR, BYTES_VR, FLOAT_VR, INT_VR, VR, PersonName

from mppsconsole.core.codes import Code
from mppsconsole.core.dicomtime import format_da, format_tm, to_datetime
from mppsconsole.core.matching import WorklistQuery
from mppsconsole.core.worklist import CHARACTER_SETS, SCHEDULED, WorklistItem
from mppsconsole.net.json_attributes import tag_name

UTF8 = "ISO_IR 192"


def to_json(ds: Dataset) -> str:
    return dumps(to_json_dict(ds))


def dumps(json_dict: dict[str, Any]) -> str:
    """The stored text of a DICOM JSON dict (as :func:`to_json` writes it)."""
    return json.dumps(json_dict, separators=(",", ":"))


def to_json_dict(ds: Dataset) -> dict[str, Any]:
    """The DICOM JSON model of ``ds``, exactly as ``Dataset.to_json_dict()`` makes it.

    pydicom's own encoder was over half the time an MPPS message spent in our
    handlers (generic per-element branching and property look-ups); this one
    handles the text, number and sequence elements MPPS and worklist datasets
    consist of directly and leaves binary, ambiguous and AT elements to pydicom.
    """
    return {f"{elem.tag:08X}": _element_json(elem) for elem in ds}


def _element_json(elem: DataElement) -> dict[str, Any]:
    vr = elem.VR
    if vr == "SQ":
        return {"vr": vr, "Value": [to_json_dict(item) for item in elem.value]}
    if vr in _PYDICOM_ENCODES:
        return elem.to_json_dict(None, 1024)
    value = elem.value
    if value is None:
        return {"vr": vr}
    if isinstance(value, str | PersonName):
        if not value:
            return {"vr": vr}
        values: list[Any] = [value]
    elif isinstance(value, MultiValue | list | tuple):
        if not value:
            return {"vr": vr}
        values = list(value)
    else:
        values = [value]
    if vr == "PN":
        return {"vr": vr, "Value": [_person_name(v) for v in values]}
    number = _NUMBER_TYPES.get(vr)
    if number is not None:
        empty = empty_value_for_VR(vr)
        values = [number(v) if v is not None else empty for v in values]
    return {"vr": vr, "Value": values}


def _person_name(value: PersonName | str) -> dict[str, str]:
    components = value.components if isinstance(value, PersonName) else PersonName(value).components
    json = {"Alphabetic": components[0]}
    if len(components) > 1:
        json["Ideographic"] = components[1]
    if len(components) > 2:
        json["Phonetic"] = components[2]
    return json


_PYDICOM_ENCODES = frozenset(str(vr) for vr in ((BYTES_VR | AMBIGUOUS_VR) - {VR.US_SS}) | {VR.AT})
_NUMBER_TYPES: dict[str, type[int] | type[float]] = {
    **{str(vr): int for vr in (INT_VR - {VR.AT}) | {VR.US_SS}},
    **{str(vr): float for vr in FLOAT_VR},
}


def from_json(text: str) -> Dataset:
    return Dataset.from_json(text) if text else Dataset()


def keywords(ds: Dataset) -> list[str]:
    """The names of a dataset's top-level attributes, in tag order (see tag_name)."""
    return [tag_name(tag) for tag in sorted(ds.keys())]


def merge(current: Dataset, modification: Dataset) -> Dataset:
    """N-SET semantics: each attribute given replaces the stored one (sequences whole)."""
    merged = Dataset()
    merged.update(current)
    for elem in modification:
        merged[elem.tag] = elem
    return merged


def sop_references(pairs: Iterable[tuple[str, str]]) -> Sequence:
    """A sequence of (Referenced SOP Class UID, Referenced SOP Instance UID) items."""
    items = []
    for sop_class, sop_instance in pairs:
        ref = Dataset()
        ref.ReferencedSOPClassUID = sop_class
        ref.ReferencedSOPInstanceUID = sop_instance
        items.append(ref)
    return Sequence(items)


def code_item(code: Code) -> Dataset:
    """A Code Sequence item (basic coded entry attributes)."""
    item = Dataset()
    item.CodeValue = code.value
    item.CodingSchemeDesignator = code.scheme
    item.CodeMeaning = code.meaning
    return item


def _needs_utf8(*values: str) -> bool:
    return any(not value.isascii() for value in values)


def worklist_dataset(item: WorklistItem) -> Dataset:
    """Every Modality Worklist attribute the console serves for one item."""
    ds = Dataset()
    if item.character_set:
        ds.SpecificCharacterSet = item.character_set
    elif _needs_utf8(
        item.patient_name, item.description, item.referring_physician, item.step_description
    ):
        ds.SpecificCharacterSet = UTF8
    ds.AccessionNumber = item.accession_number
    ds.ReferringPhysicianName = item.referring_physician
    ds.PatientName = item.patient_name
    ds.PatientID = item.patient_id
    ds.PatientBirthDate = item.birth_date
    ds.PatientSex = item.sex
    ds.StudyInstanceUID = item.study_instance_uid
    ds.RequestedProcedureID = item.requested_procedure_id
    ds.RequestedProcedureDescription = item.description
    ds.ReferencedStudySequence = Sequence()
    ds.ReferencedPatientSequence = Sequence()
    step = Dataset()
    step.Modality = item.modality
    step.ScheduledStationAETitle = item.scheduled_station_ae
    step.ScheduledProcedureStepStartDate = format_da(item.scheduled_start.date())
    step.ScheduledProcedureStepStartTime = format_tm(item.scheduled_start)
    step.ScheduledPerformingPhysicianName = ""
    step.ScheduledProcedureStepDescription = item.step_description or item.description
    step.ScheduledProcedureStepID = item.scheduled_step_id
    step.ScheduledProcedureStepStatus = item.status
    step.ScheduledStationName = ""
    step.ScheduledProcedureStepLocation = ""
    step.ScheduledProtocolCodeSequence = Sequence([code_item(item.protocol)])
    ds.ScheduledProcedureStepSequence = Sequence([step])
    return ds


def response_identifier(query: Dataset, source: Dataset) -> Dataset:
    """The C-FIND response: exactly the keys asked for, filled from ``source``.

    A key we do not hold is returned empty, as PS3.4 C.2.2.1.3 asks; a sequence
    key is answered item by item with its first query item as the template (an
    empty template returns the whole items).
    """
    out = Dataset()
    if "SpecificCharacterSet" in source:
        out.SpecificCharacterSet = source.SpecificCharacterSet
    for elem in query:
        if elem.keyword == "SpecificCharacterSet":
            continue
        if elem.tag not in source:
            out.add_new(elem.tag, elem.VR, [] if elem.VR == "SQ" else None)
            continue
        value = source[elem.tag]
        if elem.VR == "SQ" and elem.value:
            template = elem.value[0]
            out.add_new(
                elem.tag, "SQ", Sequence([response_identifier(template, i) for i in value.value])
            )
        else:
            out[elem.tag] = value
    return out


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None:
        return ""
    if isinstance(value, list | tuple):  # multi-valued (UID list)
        return "\\".join(str(v) for v in value)
    return str(value)


def worklist_query(identifier: Dataset) -> WorklistQuery:
    """The matching keys of a C-FIND identifier (top level and first SPS item)."""
    steps = identifier.get("ScheduledProcedureStepSequence") or []
    step = steps[0] if steps else Dataset()
    return WorklistQuery(
        patient_name=_text(identifier, "PatientName"),
        patient_id=_text(identifier, "PatientID"),
        accession_number=_text(identifier, "AccessionNumber"),
        requested_procedure_id=_text(identifier, "RequestedProcedureID"),
        study_instance_uid=_text(identifier, "StudyInstanceUID"),
        referring_physician=_text(identifier, "ReferringPhysicianName"),
        modality=_text(step, "Modality"),
        scheduled_station_ae=_text(step, "ScheduledStationAETitle"),
        scheduled_step_id=_text(step, "ScheduledProcedureStepID"),
        start_date=_text(step, "ScheduledProcedureStepStartDate"),
        start_time=_text(step, "ScheduledProcedureStepStartTime"),
        status=_text(step, "ScheduledProcedureStepStatus"),
    )


def worklist_identifier(query: WorklistQuery) -> Dataset:
    """A Modality Worklist C-FIND identifier: the query's matching keys plus every return key."""
    ds = Dataset()
    if _needs_utf8(query.patient_name, query.referring_physician):
        ds.SpecificCharacterSet = UTF8
    ds.AccessionNumber = query.accession_number
    ds.ReferringPhysicianName = query.referring_physician
    ds.PatientName = query.patient_name
    ds.PatientID = query.patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.StudyInstanceUID = query.study_instance_uid
    ds.RequestedProcedureID = query.requested_procedure_id
    ds.RequestedProcedureDescription = ""
    ds.ReferencedStudySequence = Sequence()
    step = Dataset()
    step.Modality = query.modality
    step.ScheduledStationAETitle = query.scheduled_station_ae
    step.ScheduledProcedureStepStartDate = query.start_date
    step.ScheduledProcedureStepStartTime = query.start_time
    step.ScheduledProcedureStepDescription = ""
    step.ScheduledProcedureStepID = query.scheduled_step_id
    step.ScheduledProcedureStepStatus = query.status
    step.ScheduledProtocolCodeSequence = Sequence()
    ds.ScheduledProcedureStepSequence = Sequence([step])
    return ds


def _character_set(ds: Dataset) -> str:
    """The response's Specific Character Set when it is one an item can keep, else ""."""
    value = ds.get("SpecificCharacterSet", "")
    return value if isinstance(value, str) and value in CHARACTER_SETS else ""


def item_from_dataset(ds: Dataset, source: str) -> WorklistItem:
    """A worklist item from a C-FIND response (values kept as the RIS sent them)."""
    steps = ds.get("ScheduledProcedureStepSequence") or [Dataset()]
    step = steps[0]
    protocols = step.get("ScheduledProtocolCodeSequence") or [Dataset()]
    protocol = protocols[0]
    start = to_datetime(
        _text(step, "ScheduledProcedureStepStartDate"),
        _text(step, "ScheduledProcedureStepStartTime"),
    )
    return WorklistItem(
        patient_name=_text(ds, "PatientName"),
        patient_id=_text(ds, "PatientID"),
        modality=_text(step, "Modality"),
        scheduled_start=start or dt.datetime.now().replace(microsecond=0),
        accession_number=_text(ds, "AccessionNumber"),
        study_instance_uid=_text(ds, "StudyInstanceUID"),
        requested_procedure_id=_text(ds, "RequestedProcedureID"),
        scheduled_step_id=_text(step, "ScheduledProcedureStepID"),
        birth_date=_text(ds, "PatientBirthDate"),
        sex=_text(ds, "PatientSex"),
        description=_text(ds, "RequestedProcedureDescription"),
        scheduled_station_ae=_text(step, "ScheduledStationAETitle"),
        referring_physician=_text(ds, "ReferringPhysicianName"),
        step_description=_text(step, "ScheduledProcedureStepDescription"),
        protocol_code_value=_text(protocol, "CodeValue"),
        protocol_coding_scheme=_text(protocol, "CodingSchemeDesignator"),
        protocol_code_meaning=_text(protocol, "CodeMeaning"),
        character_set=_character_set(ds),
        status=_text(step, "ScheduledProcedureStepStatus") or SCHEDULED,
        source=source,
    )
