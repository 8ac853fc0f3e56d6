"""Domain errors.

Two families: :class:`ServiceError` is a refusal a DICOM peer must hear (the
network layer maps its :class:`Refusal` to a DIMSE status), :class:`UserError`
is a known problem of the environment or of the input whose text is fit to show
to a person as is. Anything else raised is a bug.
"""

from __future__ import annotations

import enum


class Refusal(enum.Enum):
    """Why a DIMSE-N request is refused; the network layer owns the status numbers."""

    NO_SUCH_ATTRIBUTE = "no such attribute"
    INVALID_ATTRIBUTE_VALUE = "invalid attribute value"
    PROCESSING_FAILURE = "processing failure"
    DUPLICATE_INSTANCE = "duplicate SOP instance"
    NO_SUCH_INSTANCE = "no such SOP instance"
    MISSING_ATTRIBUTE = "missing attribute"
    MISSING_ATTRIBUTE_VALUE = "missing attribute value"
    NOT_UPDATABLE = "may no longer be updated"
    RESOURCE_LIMITATION = "resource limitation"


class ServiceError(Exception):
    """A request refused with a reason a peer can act on."""

    def __init__(self, refusal: Refusal, comment: str) -> None:
        super().__init__(comment)
        self.refusal = refusal
        # DICOM Error Comment is LO: 64 characters at most.
        self.comment = comment[:64]


class UserError(Exception):
    """A known failure whose message is shown to the user unchanged."""


class ConfigError(UserError):
    """The configuration file cannot be used."""


class InputError(UserError):
    """A file or value given by the user is invalid (exit status 2)."""


class PeerError(UserError):
    """A DICOM peer refused, aborted, failed or could not be reached (exit status 1).

    ``status`` is the DIMSE status of a refusal, when the peer answered with one.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class PeerUnreachable(PeerError):
    """The peer could not be reached, or stopped answering: no answer at all, not a refusal.

    Messages that fail this way may be deferred and retried (MPPS outbox). A refusal
    is a real answer and never is. ``maybe_delivered`` is True when the request
    left us before the association died, so the peer may have acted on it.
    """

    def __init__(self, message: str, *, maybe_delivered: bool = False) -> None:
        super().__init__(message)
        self.maybe_delivered = maybe_delivered


class WriteFailed(UserError):
    """The disk refused a write (full, or failing): nothing of the change was stored."""
