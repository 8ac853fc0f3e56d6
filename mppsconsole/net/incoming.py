"""Reading a request's data set from a peer: a Dataset, or :class:`UndecodableDataset`.

pydicom decodes lazily: ``event.attribute_list`` parses the element headers
(and sequences) but converts a value only when it is first touched, so a bad
value would surface deep inside a handler as any exception class at all. Here
every element is converted up front, with the checks a peer's bytes need:

* a value length that runs past the end of the data (pydicom keeps what
  there is without a word);
* sequences nested deeper than :data:`MAX_DEPTH` (no MPPS or worklist data set
  goes beyond 3; a 1000-deep one would exhaust the recursion limit later);
* an explicit VR that contradicts the data dictionary (a Patient Name sent as
  US), which pydicom would accept and turn into a number;
* a Specific Character Set pydicom does not know (it would fall back to ASCII
  with a warning and store garbled names), and text that is not valid in the
  single character set declared.

Any failure becomes one exception type carrying an Error Comment, so each
handler maps it to its own failure status in one place.
"""

from __future__ import annotations

import struct
from io import BytesIO
from typing import Any

from pydicom import charset
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset
from pydicom.tag import BaseTag

from mppsconsole.core.errors import Refusal, ServiceError

#: Deepest sequence nesting accepted in a request.
MAX_DEPTH = 16
#: Text VRs whose bytes follow the Specific Character Set.
_TEXT_VRS = frozenset({"PN", "SH", "LO", "ST", "LT", "UC", "UT"})
_CHARSET_TAG = BaseTag(0x00080005)
_UNDEFINED = 0xFFFFFFFF
#: Bytes read to find the Specific Character Set, the second element at most.
_HEAD = 1024
#: The request primitive's parameter behind each event property.
REQUEST_FIELDS = {
    "attribute_list": "AttributeList",
    "modification_list": "ModificationList",
    "identifier": "Identifier",
    "action_information": "ActionInformation",
}


class UndecodableDataset(ServiceError):
    """A request's data set that is not valid DICOM; the comment says where and why."""

    def __init__(self, comment: str, refusal: Refusal = Refusal.PROCESSING_FAILURE) -> None:
        super().__init__(refusal, comment)


def request_dataset(event: Any, attribute: str) -> Dataset:
    """The decoded, fully checked ``event.<attribute>`` (e.g. ``"attribute_list"``)."""
    try:
        _declared_character_set(event, attribute)
        ds: Dataset = getattr(event, attribute)
        check_dataset(ds)
    except UndecodableDataset:
        raise
    except RecursionError:
        raise UndecodableDataset("Data set nested too deeply") from None
    except Exception as exc:  # pydicom raises (and, under -W error, warns) many kinds
        raise UndecodableDataset(f"Cannot decode data set: {exc}") from None
    return ds


def _declared_character_set(event: Any, attribute: str) -> None:
    """Refuse an unknown Specific Character Set before pydicom reads past it.

    pydicom only warns about it (an exception where warnings are errors, as in
    our tests) and reads the text as ASCII: the answer must not depend on that.
    """
    stream = getattr(event.request, REQUEST_FIELDS[attribute], None)
    syntax = event.context.transfer_syntax
    if not isinstance(stream, BytesIO) or syntax.is_deflated:
        return  # deflated: checked after decoding
    fp = BytesIO(stream.getvalue()[:_HEAD])
    implicit, little = syntax.is_implicit_VR, syntax.is_little_endian
    read_dataset(fp, implicit, little, stop_when=lambda tag, vr, length: tag >= _CHARSET_TAG)
    order = "<" if little else ">"
    header = fp.read(8)
    if len(header) < 8 or struct.unpack(f"{order}HH", header[:4]) != (0x0008, 0x0005):
        return
    (length,) = struct.unpack(
        f"{order}L" if implicit else f"{order}H", header[4 if implicit else 6 :]
    )
    terms = fp.read(length).decode("ascii", "replace").split("\\")
    _known_terms(terms)


def check_dataset(ds: Dataset, depth: int = 0, encodings: list[str] | None = None) -> None:
    """Convert every element of ``ds`` (recursively) or raise :class:`UndecodableDataset`."""
    if depth > MAX_DEPTH:
        raise UndecodableDataset(f"Sequences nested deeper than {MAX_DEPTH} levels")
    if _CHARSET_TAG in ds:
        encodings = _encodings(ds)
    for tag in list(ds.keys()):
        raw = ds.get_item(tag)
        name = _name(tag)
        if isinstance(raw, RawDataElement):
            _check_length(raw, name)
            if encodings and raw.value:
                _check_text(raw, name, encodings)
        try:
            elem = ds[tag]
            value = elem.value
        except RecursionError:
            raise UndecodableDataset("Data set nested too deeply") from None
        except Exception as exc:
            raise UndecodableDataset(f"Cannot decode {name}: {exc}") from None
        _check_vr(tag, elem.VR, name)
        if elem.VR == "SQ":
            for item in value:
                check_dataset(item, depth + 1, encodings)


def _name(tag: BaseTag) -> str:
    return keyword_for_tag(tag) or f"({tag.group:04X},{tag.element:04X})"


def _encodings(ds: Dataset) -> list[str]:
    try:
        value = ds[_CHARSET_TAG].value
    except Exception as exc:
        raise UndecodableDataset(f"Cannot decode SpecificCharacterSet: {exc}") from None
    terms = [value] if isinstance(value, str) else [str(v) for v in value or []]
    return _known_terms(terms)


def _known_terms(terms: list[str]) -> list[str]:
    """The Python codecs of Specific Character Set ``terms``, all of which pydicom must know."""
    for term in terms:
        if term.strip() not in charset.python_encoding:
            raise UndecodableDataset(
                f"Unknown Specific Character Set {term.strip()[:24]!r}",
                Refusal.INVALID_ATTRIBUTE_VALUE,
            )
    return [charset.python_encoding[t.strip()] for t in terms]


def _check_length(raw: RawDataElement, name: str) -> None:
    """pydicom quietly keeps the bytes there are when a length points past the end."""
    if raw.length != _UNDEFINED and isinstance(raw.value, bytes) and len(raw.value) < raw.length:
        raise UndecodableDataset(f"Value length {raw.length} past the end of data: {name}")


def _check_text(raw: RawDataElement, name: str, encodings: list[str]) -> None:
    """Text in a single, non-ISO 2022 character set must decode in it (pydicom only warns)."""
    if raw.VR not in _TEXT_VRS or len(encodings) != 1 or encodings[0].startswith("iso2022"):
        return
    try:
        bytes(raw.value or b"").decode(encodings[0])
    except UnicodeDecodeError:
        raise UndecodableDataset(
            f"{name} is not valid in its character set", Refusal.INVALID_ATTRIBUTE_VALUE
        ) from None


def _check_vr(tag: BaseTag, vr: str, name: str) -> None:
    if vr == "UN" or tag.is_private or tag.element == 0:
        return
    try:
        expected = dictionary_VR(tag)
    except KeyError:
        return  # not in the dictionary: nothing to contradict
    if vr != expected and vr not in expected.split(" or "):
        raise UndecodableDataset(
            f"{name} has VR {vr}, expected {expected}", Refusal.INVALID_ATTRIBUTE_VALUE
        )
