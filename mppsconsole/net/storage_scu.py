"""C-STORE of generated (or any) instances, streamed one at a time with progress."""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Callable, Iterable

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom.presentation import build_context

from mppsconsole.core.errors import PeerError, UserError
from mppsconsole.core.settings import Node
from mppsconsole.net.association import associate, check_response
from mppsconsole.net.status import describe, is_success, is_warning

Progress = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True)
class SentInstance:
    sop_class_uid: str
    sop_instance_uid: str
    study_instance_uid: str
    series_instance_uid: str
    transfer_syntax: str


class Cancelled(UserError):
    """The user stopped a transfer; what was sent before stays sent."""

    def __init__(self, sent: list[SentInstance]) -> None:
        super().__init__(f"cancelled after {len(sent)} instance(s)")
        self.sent = sent


def store_instances(
    local_ae_title: str,
    node: Node,
    datasets: Iterable[Dataset],
    total: int,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> list[SentInstance]:
    """C-STORE every dataset on one association; stops at the first refusal.

    The datasets are consumed lazily, so a long series is generated while it is
    sent and never held in memory at once. All must share SOP class and
    transfer syntax (one generated series), which the first one tells.
    """
    stream = iter(datasets)
    first = next(stream, None)
    if first is None:
        return []
    sop_class = str(first.SOPClassUID)
    syntax = str(first.file_meta.TransferSyntaxUID)
    syntaxes = [syntax]
    if syntax == ExplicitVRLittleEndian:
        syntaxes.append(ImplicitVRLittleEndian)
    sent: list[SentInstance] = []
    with associate(
        local_ae_title, node, [build_context(sop_class, syntaxes)], required=[sop_class]
    ) as assoc:
        for ds in itertools.chain([first], stream):
            if cancel is not None and cancel.is_set():
                raise Cancelled(sent)
            status = assoc.send_c_store(ds)
            code = check_response(status, "C-STORE", node)
            if not (is_success(code) or is_warning(code)):
                raise PeerError(
                    f"C-STORE of image {len(sent) + 1} of {total} refused by "
                    f"{node.ae_title}: {describe(status)}"
                )
            sent.append(
                SentInstance(
                    sop_class_uid=str(ds.SOPClassUID),
                    sop_instance_uid=str(ds.SOPInstanceUID),
                    study_instance_uid=str(ds.StudyInstanceUID),
                    series_instance_uid=str(ds.SeriesInstanceUID),
                    transfer_syntax=str(ds.file_meta.TransferSyntaxUID),
                )
            )
            if progress is not None:
                progress(len(sent), total)
    return sent
