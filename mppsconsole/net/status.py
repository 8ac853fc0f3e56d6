"""Domain refusals -> DIMSE status datasets (the one place status numbers live)."""

from __future__ import annotations

from pydicom.dataset import Dataset
from pynetdicom.status import (
    GENERAL_STATUS,
    STATUS_FAILURE,
    STATUS_SUCCESS,
    STATUS_WARNING,
    STORAGE_SERVICE_CLASS_STATUS,
    code_to_category,
)

from mppsconsole.core.errors import Refusal, ServiceError
from mppsconsole.core.mpps import ERROR_ID_NOT_UPDATABLE

SUCCESS = 0x0000
PENDING = 0xFF00
CANCEL = 0xFE00
STORE_OUT_OF_RESOURCES = 0xA700
STORE_CANNOT_UNDERSTAND = 0xC000
PROCESSING_FAILURE = 0x0110
NO_SUCH_OBJECT_INSTANCE = 0x0112

_STATUS = {
    Refusal.NO_SUCH_ATTRIBUTE: 0x0105,
    Refusal.INVALID_ATTRIBUTE_VALUE: 0x0106,
    Refusal.PROCESSING_FAILURE: 0x0110,
    Refusal.DUPLICATE_INSTANCE: 0x0111,
    Refusal.NO_SUCH_INSTANCE: 0x0112,
    Refusal.MISSING_ATTRIBUTE: 0x0120,
    Refusal.MISSING_ATTRIBUTE_VALUE: 0x0121,
    Refusal.NOT_UPDATABLE: 0x0110,
    Refusal.RESOURCE_LIMITATION: 0x0213,
}


def status_dataset(code: int, comment: str = "", error_id: int | None = None) -> Dataset:
    status = Dataset()
    status.Status = code
    if comment:
        status.ErrorComment = comment[:64]
    if error_id is not None:
        status.ErrorID = error_id
    return status


def refusal_status(error: ServiceError) -> Dataset:
    """The status dataset (Status, Error Comment, Error ID) that answers ``error``."""
    error_id = ERROR_ID_NOT_UPDATABLE if error.refusal is Refusal.NOT_UPDATABLE else None
    return status_dataset(_STATUS[error.refusal], error.comment, error_id)


def is_success(code: int) -> bool:
    return code_to_category(code) == STATUS_SUCCESS


def is_warning(code: int) -> bool:
    return code_to_category(code) == STATUS_WARNING


def describe(status: Dataset) -> str:
    """``0x0111 Duplication SOP Instance: <Error Comment>`` for messages to the user."""
    code = int(status.Status)
    name = (
        GENERAL_STATUS.get(code, ("", ""))[1] or STORAGE_SERVICE_CLASS_STATUS.get(code, ("", ""))[1]
    )
    if not name and code_to_category(code) == STATUS_FAILURE:
        name = "Failure"
    text = f"0x{code:04X}" + (f" {name}" if name else "")
    comment = str(status.get("ErrorComment", "") or "").strip()
    if comment:
        text += f": {comment}"
    if "ErrorID" in status:
        text += f" (Error ID {int(status.ErrorID):04X})"
    return text
