"""The sub-commands of DESIGN.md §4: argument parsing and printing, nothing else.

Exit status: 0 success; 1 a DICOM failure, rejected/aborted association or
unreachable peer; 2 bad usage or bad input. Expected failures print one line.
"""

from __future__ import annotations

import argparse
import codecs
import dataclasses
import io
import json
import logging
import signal
import sys
import threading
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mppsconsole import __version__, app, paths
from mppsconsole.core.errors import ConfigError, InputError, UserError
from mppsconsole.core.mpps import STATUSES
from mppsconsole.core.nodes import destination
from mppsconsole.core.profile import Profile, load_profile
from mppsconsole.core.settings import Node, Settings, TlsSettings, valid_ae_title
from mppsconsole.core.step import RECEIVED, SENT
from mppsconsole.core.validation import Finding
from mppsconsole.core.worklist import WorklistItem, build_item
from mppsconsole.core.worklist_file import parse_worklist_file
from mppsconsole.store import commitments, findings, instances, steps, worklist

if TYPE_CHECKING:
    from mppsconsole.net.server import DepartmentServer

log = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace, paths.Locations], int]


def _width(text: str) -> int:
    """Columns on a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _print_table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [max(_width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        cells = (c + " " * (w - _width(c)) for c, w in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())


def _stdout_is_utf8() -> bool:
    encoding = getattr(sys.stdout, "encoding", None)
    if encoding is None:  # a str buffer (io.StringIO): holds any character
        return True
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def _print_json(data: Any) -> None:
    # A stdout that cannot carry UTF-8 (a Windows code page or a Latin-1 locale, e.g. when
    # redirected to a file) gets \u escapes: still valid, lossless JSON, and no
    # UnicodeEncodeError on a patient name such as 张^伟.
    json.dump(data, sys.stdout, indent=2, ensure_ascii=not _stdout_is_utf8())
    print()


# --- gui -------------------------------------------------------------------


def cmd_gui(args: argparse.Namespace, locations: paths.Locations) -> int:
    from mppsconsole.gui.application import run_gui

    return run_gui(locations, app.load(locations), smoke_test=getattr(args, "smoke_test", False))


# --- serve -----------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, locations: paths.Locations) -> int:
    from mppsconsole.net.server import DepartmentServer
    from mppsconsole.store.audit import trail as audit_trail

    settings = app.load(locations)
    if args.aet:
        settings = dataclasses.replace(settings, ae_title=args.aet)
    settings = _serve_tls(args, settings)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    profile_path = Path(args.profile) if args.profile else None
    profile = load_profile(profile_path) if profile_path else None  # before listening: exit 2
    with app.open_store(locations, settings) as db:
        server = DepartmentServer(db, settings, locations.storage_dir(settings.storage_dir))
        if profile_path and profile:
            _use_serve_profile(server, profile_path, profile)
        with audit_trail(db, server.events, "serve"):
            host, port = server.start(args.host, args.port)
            scheme = " (TLS)" if settings.tls is not None and settings.tls.serves else ""
            print(
                f"MPPS Console SCP {settings.ae_title} listening on {host}:{port}{scheme}",
                flush=True,
            )
            sender = _outbox_sender(db)
            try:
                while not stop.wait(0.5):
                    pass
            finally:
                sender.stop()
                server.stop()
    print("stopped", flush=True)
    return 0


def _use_serve_profile(server: DepartmentServer, path: Path, profile: Profile) -> None:
    """Activate ``serve --profile``; SIGHUP reloads the file (a broken one keeps the old)."""
    from mppsconsole.net.faults import activate

    activate(server.ctx, profile)

    def reload(*_: object) -> None:
        try:
            activate(server.ctx, load_profile(path))
        except ConfigError as exc:
            log.error("Profile not reloaded, the previous one stays active: %s", exc)

    if hasattr(signal, "SIGHUP"):  # not on Windows
        signal.signal(signal.SIGHUP, reload)


def _syntaxes() -> dict[str, str]:
    """The images' transfer syntax choices (imported late: numpy and pydicom are heavy)."""
    from mppsconsole.net.images import TRANSFER_SYNTAX_CHOICES

    return TRANSFER_SYNTAX_CHOICES


# --- worklist ----------------------------------------------------------------


def cmd_worklist_add(args: argparse.Namespace, locations: paths.Locations) -> int:
    from mppsconsole.core.dicomtime import date_argument

    fields = {
        "patient_name": args.patient_name,
        "patient_id": args.patient_id,
        "modality": args.modality,
        "date": date_argument(args.date),
        "time": args.time,
        "accession_number": args.accession,
        "birth_date": args.birth_date,
        "sex": args.sex,
        "description": args.description,
        "scheduled_station_ae": args.station_aet,
    }
    if "-" in fields["date"]:
        raise InputError(f"--date must be one day, not a range: {args.date}")
    item = build_item({k: v for k, v in fields.items() if v})
    settings = app.load(locations)
    with app.open_store(locations, settings) as db, db.transaction() as conn:
        worklist.add_many(conn, [item])
    print(
        f"added {item.accession_number} {item.patient_name} ({item.modality}, "
        f"{item.scheduled_start:%Y-%m-%d %H:%M}) study {item.study_instance_uid}"
    )
    return 0


def cmd_worklist_import(args: argparse.Namespace, locations: paths.Locations) -> int:
    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    try:
        items = parse_worklist_file(path.name, text)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    settings = app.load(locations)
    with app.open_store(locations, settings) as db:
        try:
            with db.transaction() as conn:
                count = worklist.add_many(conn, items)
        except InputError as exc:
            raise InputError(f"{path}: {exc}; nothing imported") from None
    print(f"imported {count} worklist item(s) from {path}")
    return 0


def cmd_worklist_generate(args: argparse.Namespace, locations: paths.Locations) -> int:
    """Random but plausible orders: to stdout or a file as JSON, or straight into the store."""
    import datetime as dt

    from mppsconsole.core.dicomtime import parse_date
    from mppsconsole.core.worklist_generator import generate

    if args.count < 1:
        raise InputError(f"COUNT must be at least 1, not {args.count}")
    day = dt.date.today() if args.date.strip().lower() == "today" else parse_date(args.date)
    items = generate(args.count, charset=args.charset, day=day, seed=args.seed)
    if args.import_:
        settings = app.load(locations)
        with app.open_store(locations, settings) as db:
            try:
                with db.transaction() as conn:
                    worklist.add_many(conn, items)
            except InputError as exc:
                raise InputError(f"{exc}; nothing imported") from None
        print(f"imported {len(items)} generated worklist item(s)")
        return 0
    data = [item.to_json() for item in items]
    if args.output is None:
        _print_json(data)
        return 0
    try:
        Path(args.output).write_text(
            json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    except OSError as exc:
        raise InputError(f"{args.output}: cannot write: {exc.strerror}") from None
    print(f"wrote {len(items)} worklist item(s) to {args.output}")
    return 0


def cmd_worklist_list(args: argparse.Namespace, locations: paths.Locations) -> int:
    settings = app.load(locations)
    with app.open_store(locations, settings) as db, db.reading() as conn:
        items = worklist.list_items(conn)
    if args.json:
        _print_json([item.to_json() for item in items])
    else:
        _print_worklist(items)
    return 0


def _print_worklist(items: Sequence[WorklistItem]) -> None:
    _print_table(
        [
            [
                i.scheduled_start.strftime("%Y-%m-%d %H:%M"),
                i.accession_number,
                i.patient_name,
                i.patient_id,
                i.modality,
                i.scheduled_station_ae,
                i.status,
                i.description,
            ]
            for i in items
        ],
        ["SCHEDULED", "ACCESSION", "PATIENT", "ID", "MOD", "STATION", "STATUS", "DESCRIPTION"],
    )


# --- steps -------------------------------------------------------------------


def cmd_steps_list(args: argparse.Namespace, locations: paths.Locations) -> int:
    settings = app.load(locations)
    with app.open_store(locations, settings) as db, db.reading() as conn:
        found = steps.list_steps(conn, args.status)
    if args.json:
        _print_json([s.to_json() for s in found])
        return 0
    _print_table(
        [
            [
                s.status,
                s.start.strftime("%Y-%m-%d %H:%M") if s.start else "",
                s.patient_name,
                s.patient_id,
                s.accession_number,
                s.modality,
                s.station_ae,
                f"{s.series_count}/{s.image_count}",
                s.direction,
                s.calling_ae,
                s.sop_instance_uid,
            ]
            for s in found
        ],
        [
            "STATUS",
            "STARTED",
            "PATIENT",
            "ID",
            "ACCESSION",
            "MOD",
            "STATION",
            "SER/IMG",
            "DIRECTION",
            "CALLING",
            "UID",
        ],
    )
    return 0


def cmd_steps_show(args: argparse.Namespace, locations: paths.Locations) -> int:
    settings = app.load(locations)
    with app.open_store(locations, settings) as db, db.reading() as conn:
        stored = steps.get(conn, args.uid, args.direction)
        direction = stored.summary.direction if stored else args.direction
        history = steps.messages(conn, args.uid, direction)
        linked = instances.for_step(conn, args.uid)
        commitment_requests = commitments.for_step(conn, args.uid)
        step_findings = findings.for_step(conn, args.uid, direction) if stored else []
    if stored is None:
        raise InputError(f"no procedure step {args.uid}")
    if args.json:
        data = stored.summary.to_json()
        data["attributes"] = json.loads(stored.dataset_json)
        data["messages"] = [m.to_json() for m in history]
        data["instances"] = [i.to_json() for i in linked]
        data["commitments"] = [c.to_json() for c in commitment_requests]
        data["findings"] = [f.to_json() for f in step_findings]
        _print_json(data)
        return 0
    for key, value in stored.summary.to_json().items():
        print(f"{key:18} {'' if value is None else value}")
    print("\nhistory:")
    for m in history:
        comment = f" {m.error_comment}" if m.error_comment else ""
        print(
            f"  {m.time:%Y-%m-%d %H:%M:%S} {m.direction:8} {m.command:8} "
            f"{m.calling_ae}@{m.peer} 0x{m.status:04X}{comment}"
        )
    print(f"\ninstances: {len(linked)}")
    for i in linked:
        print(f"  {i.sop_instance_uid} {i.direction} {i.path}")
    print(f"\nstorage commitment requests: {len(commitment_requests)}")
    for c in commitment_requests:
        print(
            f"  {c.requested_at:%Y-%m-%d %H:%M:%S} {c.node} {c.state}: "
            f"{len(c.committed)} committed, {len(c.failed)} failed ({c.transaction_uid})"
        )
    _print_findings(step_findings)
    return 0


def _print_findings(found: Sequence[Finding]) -> None:
    print(f"\nfindings: {len(found)}")
    for f in found:
        print(f"  {f.severity:7} {f.attribute}: {f.message} [{f.rule}]")


# --- modality side (SCU) -------------------------------------------------------


def _scu(args: argparse.Namespace, locations: paths.Locations) -> tuple[Settings, Node, Any]:
    """Settings, destination node and workstation identity shared by every SCU command."""
    from mppsconsole.net.workstation import Workstation

    settings = app.load(locations)
    if args.aet is not None and not valid_ae_title(args.aet):
        raise InputError(f"invalid calling AE title {args.aet!r} (1-16 characters, no backslash)")
    node = _node_tls(args, settings, destination(args.to, settings, args.aec))
    return settings, node, Workstation.from_settings(settings, args.aet)


class _StderrProgress:
    """``sending 12/40`` on stderr, rewritten in place on a terminal, throttled otherwise."""

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            end = "\n" if done == total else ""
            print(f"\r{self.verb} {done}/{total}", end=end, file=sys.stderr, flush=True)
        elif done == total or done % max(1, total // 10) == 0:
            print(f"{self.verb} {done}/{total}", file=sys.stderr, flush=True)


def cmd_echo(args: argparse.Namespace, locations: paths.Locations) -> int:
    from mppsconsole.net.echo_scu import echo

    _, node, station = _scu(args, locations)
    seconds = echo(station.ae_title, node)
    print(f"C-ECHO {node.ae_title}@{node.host}:{node.port}: success ({seconds * 1000:.0f} ms)")
    return 0


def cmd_worklist_query(args: argparse.Namespace, locations: paths.Locations) -> int:
    from mppsconsole.core.dicomtime import date_argument
    from mppsconsole.core.matching import WorklistQuery
    from mppsconsole.net.mwl_scu import query_worklist

    settings, node, station = _scu(args, locations)
    if args.limit < 1:
        raise InputError("--limit must be at least 1")
    query = WorklistQuery(
        patient_name=args.patient_name or "",
        patient_id=args.patient_id or "",
        accession_number=args.accession or "",
        modality=(args.modality or "").upper(),
        scheduled_station_ae=args.station_aet or "",
        start_date=date_argument(args.date) if args.date else "",
    )
    result = query_worklist(station.ae_title, node, query, limit=args.limit)
    with app.open_store(locations, settings) as db, db.transaction() as conn:
        worklist.replace_cached(conn, node.name, result.items)
    if args.json:
        _print_json([item.to_json() for item in result.items])
    else:
        _print_worklist(result.items)
    if result.truncated:
        print(f"mppsconsole: only the first {args.limit} items (raise --limit)", file=sys.stderr)
    return 0


def cmd_mpps_start(args: argparse.Namespace, locations: paths.Locations) -> int:
    from mppsconsole.net.modality import start_step
    from mppsconsole.net.workstation import Patient

    settings, node, station = _scu(args, locations)
    patient = None
    if args.unscheduled:
        missing = [
            f"--{n}"
            for n in ("patient-name", "patient-id", "modality")
            if not getattr(args, n.replace("-", "_"))
        ]
        if missing:
            raise InputError("--unscheduled needs " + ", ".join(missing))
        patient = Patient(args.patient_name, args.patient_id, args.birth_date or "", args.sex or "")
    elif not args.accession:
        raise InputError("give --accession ACC, or --unscheduled with the patient")
    with app.open_store(locations, settings) as db:
        _send_due(db)
        summary = start_step(
            db,
            station,
            node,
            accession=None if args.unscheduled else args.accession,
            patient=patient,
            modality=(args.modality or "").upper() or None,
            defer=args.defer,
        )
        _report_deferred(db, summary.sop_instance_uid)
    print(summary.sop_instance_uid)
    return 0


def cmd_mpps_complete(args: argparse.Namespace, locations: paths.Locations) -> int:
    from mppsconsole.net.modality import complete_step

    settings, node, station = _scu(args, locations)
    storage = (
        _node_tls(args, settings, destination(args.store_to, settings, args.store_aec))
        if args.store_to
        else None
    )
    with app.open_store(locations, settings) as db:
        _send_due(db)
        summary = complete_step(
            db,
            station,
            node,
            args.uid,
            image_count=args.images,
            storage_node=storage,
            transfer_syntax=_syntaxes()[args.transfer_syntax],
            progress=_StderrProgress("sending image"),
            defer=args.defer,
        )
        _report_deferred(db, summary.sop_instance_uid)
    print(
        f"{summary.sop_instance_uid} COMPLETED: {summary.series_count} series, "
        f"{summary.image_count} image(s)"
    )
    return 0


def cmd_mpps_discontinue(args: argparse.Namespace, locations: paths.Locations) -> int:
    from mppsconsole.core.codes import DISCONTINUATION_REASONS, discontinuation_reason
    from mppsconsole.net.modality import discontinue_step

    if args.reason == "list":
        for code in DISCONTINUATION_REASONS:
            print(f"{code.value}  {code.meaning}")
        return 0
    if not args.uid or not args.to:
        raise InputError("mpps discontinue needs UID and --to")
    reason = discontinuation_reason(args.reason)
    settings, node, station = _scu(args, locations)
    with app.open_store(locations, settings) as db:
        _send_due(db)
        summary = discontinue_step(db, station, node, args.uid, reason, defer=args.defer)
        _report_deferred(db, summary.sop_instance_uid)
    print(f"{summary.sop_instance_uid} DISCONTINUED: {reason.meaning}")
    return 0


def cmd_send_images(args: argparse.Namespace, locations: paths.Locations) -> int:
    from mppsconsole.net.modality import send_images

    settings, node, station = _scu(args, locations)
    if args.count < 1:
        raise InputError("--count must be at least 1")
    with app.open_store(locations, settings) as db:
        sent = send_images(
            db,
            station,
            node,
            count=args.count,
            modality=args.modality.upper() if args.modality else None,
            accession=args.accession,
            mpps_uid=args.mpps,
            transfer_syntax=_syntaxes()[args.transfer_syntax],
            progress=_StderrProgress("sending image"),
        )
    series = sent[0].series_instance_uid if sent else ""
    print(f"sent {len(sent)} image(s) to {node.ae_title}@{node.host}:{node.port}, series {series}")
    return 0


def cmd_commit(args: argparse.Namespace, locations: paths.Locations) -> int:
    from mppsconsole.net.modality import commit_step

    settings, node, station = _scu(args, locations)
    with app.open_store(locations, settings) as db:
        result = commit_step(db, station, node, args.mpps, wait=args.wait)
    print(
        f"storage commitment {result.transaction_uid}: {len(result.committed)} committed, "
        f"{len(result.failed)} failed"
    )
    for _sop_class, sop_uid, reason in result.failed:
        print(f"  failed {sop_uid} ({reason})")
    if not result.failed:
        return 0
    # Exit 1 comes with its one line on stderr (DESIGN.md §4), the list stays on stdout.
    total = len(result.committed) + len(result.failed)
    print(
        f"mppsconsole: error: {node.ae_title} did not commit {len(result.failed)} of "
        f"{total} instance(s)",
        file=sys.stderr,
    )
    return 1


# --- TLS (issue #6) -----------------------------------------------------------


def _add_tls_flags(parser: argparse.ArgumentParser, *, serving: bool) -> None:
    """--tls-cert/--tls-key/--tls-ca, overriding the settings' [tls] table."""
    group = parser.add_argument_group("TLS (override the settings' [tls] table)")
    if not serving:
        group.add_argument(
            "--tls", action="store_true", help="use TLS with the settings' [tls] files"
        )
    group.add_argument("--tls-cert", metavar="PEM", help="our certificate (implies TLS)")
    group.add_argument("--tls-key", metavar="PEM", help="its private key")
    group.add_argument(
        "--tls-ca", metavar="PEM", help="CA certificate(s) peers must chain to (implies TLS)"
    )
    if serving:
        group.add_argument(
            "--tls-require-client-cert",
            action="store_true",
            help="mutual authentication: clients need a certificate from --tls-ca",
        )


def _tls_override(args: argparse.Namespace, settings: Settings) -> TlsSettings | None:
    """The settings' [tls] with the command line's files; None when no flag was given."""
    given = {k: getattr(args, f"tls_{k}", None) for k in ("cert", "key", "ca")}
    require = getattr(args, "tls_require_client_cert", False)
    if not any(given.values()) and not require and not getattr(args, "tls", False):
        return None
    base = settings.tls or TlsSettings()
    absolute = {k: str(Path(v).absolute()) if v else "" for k, v in given.items()}
    tls = dataclasses.replace(
        base,
        cert=absolute["cert"] or base.cert,
        key=absolute["key"] or base.key,
        ca=absolute["ca"] or base.ca,
    )
    if require:
        tls = dataclasses.replace(tls, require_client_cert=True)
    if bool(tls.cert) != bool(tls.key):
        raise InputError("--tls-cert and --tls-key go together")
    return tls


def _serve_tls(args: argparse.Namespace, settings: Settings) -> Settings:
    tls = _tls_override(args, settings)
    if tls is None:
        return settings
    if not tls.serves:
        raise InputError("serve with TLS needs --tls-cert and --tls-key (or [tls] cert and key)")
    if tls.require_client_cert and not tls.ca:
        raise InputError("--tls-require-client-cert needs --tls-ca (the clients' CA)")
    return dataclasses.replace(settings, tls=tls)


def _node_tls(args: argparse.Namespace, settings: Settings, node: Node) -> Node:
    """``node`` as configured, or switched to TLS by --tls / --tls-* (never back to plain)."""
    tls = _tls_override(args, settings)
    if tls is None:
        return node
    return dataclasses.replace(node, tls=True, tls_files=tls)


def cmd_tls_init(args: argparse.Namespace, locations: paths.Locations) -> int:
    from mppsconsole.net.certificates import init_lab

    directory = Path(args.dir).absolute()
    files = init_lab(directory, force=args.force)
    for path in files.paths():
        print(f"wrote {path}")
    print(
        "\nFor this console's settings (config.toml):\n\n"
        f"[tls]\ncert = {json.dumps(str(files.node_cert))}\n"
        f"key = {json.dumps(str(files.node_key))}\n"
        f"ca = {json.dumps(str(files.ca_cert))}\n"
        "require_client_cert = false   # true: peers need a certificate from this CA\n"
        f"\nGive the peer {files.peer_cert.name}, {files.peer_key.name} and {files.ca_cert.name}; "
        f"keep {files.ca_key.name} private (it signs new certificates)."
    )
    return 0


# --- deferred MPPS (the outbox) ------------------------------------------------


def _outbox_sender(db: Any) -> Any:
    """The retry worker for deferred MPPS messages, started (``serve``)."""
    from mppsconsole.net.deferred import DeferredSender

    sender = DeferredSender(db)
    sender.start()
    return sender


def _send_due(db: Any) -> None:
    """Before sending MPPS, send what waits in the outbox and is due (keeps the order)."""
    from mppsconsole.net.deferred import DEFAULT_BACKOFF, flush

    for attempt in flush(db, DEFAULT_BACKOFF):
        message = attempt.message
        print(
            f"mppsconsole: deferred {message.kind} {message.step_uid}: {attempt.outcome} "
            f"({attempt.detail})",
            file=sys.stderr,
        )


def _report_deferred(db: Any, uid: str) -> None:
    from mppsconsole.net.deferred import is_deferred

    if is_deferred(db, uid):
        print(
            f"mppsconsole: MPPS destination not reachable: {uid} deferred, queued for retry "
            "(mppsconsole mpps queue list)",
            file=sys.stderr,
        )


def _add_defer_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--defer",
        action="store_true",
        help="when the destination cannot be reached, queue the message and retry it later "
        "(exit 0) instead of failing",
    )


def cmd_mpps_queue(args: argparse.Namespace, locations: paths.Locations) -> int:
    from mppsconsole.net import deferred
    from mppsconsole.store import outbox

    settings = app.load(locations)
    with app.open_store(locations, settings) as db:
        if args.queue_command == "retry":
            deferred.retry_now(db, args.id)
            for attempt in deferred.flush(db, deferred.DEFAULT_BACKOFF):
                message = attempt.message
                print(
                    f"{message.id} {message.kind} {message.step_uid}: {attempt.outcome} "
                    f"({attempt.detail})"
                )
        elif args.queue_command == "cancel":
            with db.reading() as conn:
                found = outbox.get(conn, args.id)
            if found is None or found.state not in outbox.OPEN_STATES:
                raise InputError(f"no deferred message {args.id} waiting")
            cancelled = deferred.cancel(db, args.id)
            print(f"cancelled {len(cancelled)} message(s): {', '.join(map(str, cancelled))}")
        with db.reading() as conn:
            waiting = outbox.open_messages(conn)
    if args.queue_command == "list" and args.json:
        _print_json([m.to_json() for m in waiting])
    elif args.queue_command == "list":
        _print_table(
            [
                [
                    str(m.id),
                    m.kind,
                    m.step_uid,
                    f"{m.node.ae_title}@{m.node.host}:{m.node.port}",
                    str(m.attempts),
                    f"{m.next_attempt.astimezone():%Y-%m-%d %H:%M:%S}",
                    m.last_error,
                ]
                for m in waiting
            ],
            ["ID", "KIND", "STEP", "DESTINATION", "TRIES", "NEXT TRY", "LAST ERROR"],
        )
    # retry: still waiting is a failure to deliver (exit 1), like any unreachable peer
    if args.queue_command == "retry" and waiting:
        print(f"mppsconsole: error: {len(waiting)} message(s) still deferred", file=sys.stderr)
        return 1
    return 0


def _add_queue_parser(mp_sub: Any, common: argparse.ArgumentParser) -> None:
    queue = mp_sub.add_parser(
        "queue", parents=[common], help="deferred N-CREATE / N-SET waiting for their destination"
    )
    queue_sub = queue.add_subparsers(dest="queue_command", metavar="ACTION", required=True)
    listing = queue_sub.add_parser("list", parents=[common], help="messages waiting, in order")
    listing.add_argument("--json", action="store_true")
    retry = queue_sub.add_parser("retry", parents=[common], help="send waiting messages now")
    retry.add_argument("id", type=int, nargs="?", help="one message (default: all)")
    cancel = queue_sub.add_parser(
        "cancel", parents=[common], help="drop a message (an N-CREATE takes its N-SETs along)"
    )
    cancel.add_argument("id", type=int)
    for sub_parser in (listing, retry, cancel):
        sub_parser.set_defaults(handler=cmd_mpps_queue)


# --- scenarios -------------------------------------------------------------------


def _read_scenario(name: str) -> Any:
    from mppsconsole.core.scenario import parse_scenario

    path = Path(name)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    return parse_scenario(text, str(path))


def cmd_scenario_run(args: argparse.Namespace, locations: paths.Locations) -> int:
    from mppsconsole.net.scenario_runner import ScenarioRunner

    scenario = _read_scenario(args.file)
    if args.aet is None and scenario.station_ae:
        args.aet = scenario.station_ae  # the scenario's modality calls as itself
    settings, node, station = _scu(args, locations)
    if args.speed <= 0:
        raise InputError("--speed must be positive")
    worklist_node = destination(args.worklist, settings, None) if args.worklist else None
    storage_node = destination(args.store_to, settings, None) if args.store_to else None
    print(
        f"scenario {scenario.name}: {len(scenario.steps)} step(s) against {node.name}", flush=True
    )
    with app.open_store(locations, settings) as db:
        runner = ScenarioRunner(
            db,
            station,
            node,
            speed=args.speed,
            report=lambda line: print(line, flush=True),
            worklist_node=worklist_node,
            storage_node=storage_node,
        )
        result = runner.run(scenario)
    print("\nexpectations:")
    for verdict in result.verdicts:
        mark = "PASS" if verdict.passed else "FAIL"
        print(f"  {mark}  {verdict.expectation.describe()}: {verdict.actual}")
    passed = sum(v.passed for v in result.verdicts)
    print(f"{passed} of {len(result.verdicts)} expectation(s) passed")
    if not result.passed:
        print(
            f"mppsconsole: error: {len(result.verdicts) - passed} expectation(s) failed",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_scenario_record(args: argparse.Namespace, locations: paths.Locations) -> int:
    from mppsconsole.core.scenario import dump_scenario
    from mppsconsole.net.scenario_record import record_session

    path = Path(args.file)
    settings = app.load(locations)
    with app.open_store(locations, settings) as db:
        scenario = record_session(db, args.direction, args.name or path.stem)
    try:
        path.write_text(dump_scenario(scenario), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc}") from None
    print(f"recorded {len(scenario.steps)} step(s), {len(scenario.orders)} order(s) to {path}")
    return 0


def _add_scenario_parser(sub: Any, common: argparse.ArgumentParser, scu: Any) -> None:
    sc = sub.add_parser("scenario", parents=[common], help="play or record a modality's day")
    sc_sub = sc.add_subparsers(dest="scenario_command", metavar="ACTION", required=True)
    run = sc_sub.add_parser(
        "run", parents=[common, scu], help="play a scenario file and check its expectations"
    )
    run.add_argument("file", help="scenario file (TOML)")
    run.add_argument(
        "--speed", type=float, default=1.0, help="time scale: 60 plays a minute per second"
    )
    run.add_argument("--worklist", help="node holding the orders (default: --to)")
    run.add_argument("--store-to", help="node taking images and commitment (default: --to)")
    run.set_defaults(handler=cmd_scenario_run)
    rec = sc_sub.add_parser(
        "record", parents=[common], help="write the stored session as a scenario file"
    )
    rec.add_argument("file", help="scenario file to write (TOML)")
    rec.add_argument(
        "--direction",
        choices=(SENT, RECEIVED),
        default=SENT,
        help="steps sent by our modality side (default) or received by our SCP",
    )
    rec.add_argument("--name", help="scenario name (default: the file name)")
    rec.set_defaults(handler=cmd_scenario_record)


# --- audit trail ---------------------------------------------------------------

#: Commands audited as the local user's manual actions: handler -> (ATNA event, action).
#: ``serve`` and the GUI audit their own traffic; ``audit export`` audits itself.
_AUDITED: dict[str, tuple[str, str]] = {
    "cmd_worklist_add": ("ORDER_RECORD", "C"),
    "cmd_worklist_import": ("ORDER_RECORD", "C"),
    "cmd_worklist_generate": ("ORDER_RECORD", "C"),
    "cmd_worklist_list": ("ORDER_RECORD", "R"),
    "cmd_worklist_query": ("QUERY", "E"),
    "cmd_echo": ("APPLICATION_ACTIVITY", "E"),
    "cmd_mpps_start": ("PROCEDURE_RECORD", "C"),
    "cmd_mpps_complete": ("PROCEDURE_RECORD", "U"),
    "cmd_mpps_discontinue": ("PROCEDURE_RECORD", "U"),
    "cmd_send_images": ("BEGIN_TRANSFERRING", "E"),
    "cmd_commit": ("INSTANCES_TRANSFERRED", "E"),
    "cmd_steps_list": ("PROCEDURE_RECORD", "R"),
    "cmd_steps_show": ("PROCEDURE_RECORD", "R"),
    "cmd_mpps_queue": ("PROCEDURE_RECORD", "U"),  # list, retry or cancel deferred messages
    "cmd_scenario_run": ("PROCEDURE_RECORD", "E"),
    "cmd_scenario_record": ("PROCEDURE_RECORD", "R"),
}


def _run_audited(handler: Handler, args: argparse.Namespace, locations: paths.Locations) -> int:
    """Run a command and append its audit record: who (this user), what, outcome.

    The record names the command's target (peer, step UID) and patient keys in
    their own fields; the error text only for failures that are not bad input
    (bad input may quote a patient's identifiers back).
    """
    if handler.__name__ not in _AUDITED:
        return handler(args, locations)
    from mppsconsole.core import audit

    try:
        code = handler(args, locations)
    except InputError:
        _audit_command(handler, args, locations, audit.MINOR_FAILURE, "bad input", "")
        raise
    except UserError as exc:
        _audit_command(handler, args, locations, audit.MINOR_FAILURE, "failed", str(exc))
        raise
    except Exception as exc:
        _audit_command(
            handler, args, locations, audit.SERIOUS_FAILURE, "internal error", type(exc).__name__
        )
        raise
    outcome = audit.SUCCESS if code == 0 else audit.MINOR_FAILURE
    _audit_command(handler, args, locations, outcome, "ok" if code == 0 else f"exit {code}", "")
    return code


def _audit_command(
    handler: Handler,
    args: argparse.Namespace,
    locations: paths.Locations,
    outcome: int,
    status: str,
    detail: str,
) -> None:
    from mppsconsole.core import audit
    from mppsconsole.core.events import Subject
    from mppsconsole.store.audit import write_now

    event_name, action = _AUDITED[handler.__name__]
    subject = Subject(
        instance_uid=getattr(args, "uid", None) or getattr(args, "mpps", None) or "",
        patient_id=getattr(args, "patient_id", None) or "",
        patient_name=getattr(args, "patient_name", None) or "",
        accession=getattr(args, "accession", None) or "",
    )
    record = audit.manual(
        getattr(audit, event_name),
        action,
        "cli " + handler.__name__.removeprefix("cmd_").replace("_", " "),
        outcome=outcome,
        status=status,
        subject=subject,
        peer=getattr(args, "to", None) or "",
        detail=detail,
    )
    try:
        settings = app.load(locations)
        with app.open_store(locations, settings) as db:
            write_now(db, record)
    except UserError as exc:  # no usable settings or store: the command's error says why,
        log.info("audit record not written: %s", exc)  # in its one stderr line (§4)


def _iso_time(text: str) -> Any:
    """An ISO 8601 date or date-time; without an offset it is local time."""
    import datetime as dt

    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or date-time: {text!r}") from None
    return value if value.tzinfo else value.astimezone()


def cmd_audit_export(args: argparse.Namespace, locations: paths.Locations) -> int:
    from mppsconsole.store.audit import export

    settings = app.load(locations)
    with app.open_store(locations, settings) as db:
        if args.output in (None, "-"):
            count = export(
                db, sys.stdout, since=args.since, until=args.until, deidentify=args.deidentify
            )
        else:
            try:
                with open(args.output, "w", encoding="utf-8") as out:
                    count = export(
                        db, out, since=args.since, until=args.until, deidentify=args.deidentify
                    )
            except OSError as exc:
                raise InputError(f"{args.output}: cannot write: {exc.strerror or exc}") from None
            print(f"exported {count} audit record(s) to {args.output}", file=sys.stderr)
    return 0


def _add_audit_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    au = sub.add_parser("audit", parents=[common], help="the audit trail")
    au_sub = au.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    ex = au_sub.add_parser(
        "export", parents=[common], help="write audit records as JSON lines (README: Audit trail)"
    )
    ex.add_argument("--since", type=_iso_time, help="from this ISO 8601 date/time (inclusive)")
    ex.add_argument("--until", type=_iso_time, help="up to this ISO 8601 date/time (exclusive)")
    ex.add_argument(
        "--deidentify",
        action="store_true",
        help="replace patient names, IDs and accession numbers by pseudonyms",
    )
    ex.add_argument("-o", "--output", help="file to write (default: standard output)")
    ex.set_defaults(handler=cmd_audit_export)


# --- parser ------------------------------------------------------------------


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", default=argparse.SUPPRESS, help="data folder (database, images, logs)"
    )
    common.add_argument("--config", default=argparse.SUPPRESS, help="configuration file (TOML)")
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log details to stderr",
    )
    return common


def _add_worklist_generate(wl_sub: Any, common: argparse.ArgumentParser) -> None:
    from mppsconsole.core.worklist_generator import CHARSETS

    gen = wl_sub.add_parser(
        "generate", parents=[common], help="random but plausible orders (test data)"
    )
    gen.add_argument("count", type=int, metavar="COUNT")
    gen.add_argument(
        "--charset", choices=tuple(CHARSETS), default="utf-8", help="names and their encoding"
    )
    gen.add_argument("--seed", type=int, help="the same seed gives the same worklist")
    gen.add_argument("--date", default="today", help="YYYYMMDD or today (default)")
    where = gen.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", metavar="FILE", help="write JSON for 'worklist import'")
    where.add_argument(
        "--import", dest="import_", action="store_true", help="add to the local worklist"
    )
    gen.set_defaults(handler=cmd_worklist_generate)


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="mppsconsole",
        parents=[common],
        description="MPPS Console: DICOM worklist, MPPS, storage and commitment, both sides.",
    )
    parser.add_argument("--version", action="version", version=f"mppsconsole {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = sub.add_parser("gui", parents=[common], help="the window (the default)")
    gui.add_argument(
        "--smoke-test", action="store_true", help="show the window, close it after a moment"
    )
    gui.set_defaults(handler=cmd_gui)

    serve = sub.add_parser(
        "serve", parents=[common], help="run the SCP headless until SIGINT/SIGTERM"
    )
    serve.add_argument("--aet", help="local AE title (default from settings: MPPSCONSOLE)")
    serve.add_argument("--port", type=int, help="port to listen on (0: any free port)")
    serve.add_argument("--host", help="address to bind (default from settings)")
    serve.add_argument(
        "--profile",
        metavar="FILE",
        help="server behaviour profile (TOML: strict/lenient, injected faults); SIGHUP reloads",
    )
    _add_tls_flags(serve, serving=True)
    serve.set_defaults(handler=cmd_serve)

    wl = sub.add_parser("worklist", parents=[common], help="the local worklist")
    wl_sub = wl.add_subparsers(dest="worklist_command", metavar="ACTION", required=True)
    add = wl_sub.add_parser("add", parents=[common], help="add one scheduled item")
    add.add_argument("--patient-name", required=True, help="DICOM PN, e.g. Doe^Jane")
    add.add_argument("--patient-id", required=True)
    add.add_argument("--modality", required=True, help="CT, MR, CR, DX, US, ...")
    add.add_argument("--date", required=True, help="YYYYMMDD or today")
    add.add_argument("--time", help="HHMM or HHMMSS (default 0000)")
    add.add_argument("--accession", help="generated when absent")
    add.add_argument("--birth-date", help="YYYYMMDD")
    add.add_argument("--sex", help="M, F or O")
    add.add_argument("--description", help="requested procedure description")
    add.add_argument("--station-aet", help="scheduled station AE title")
    add.set_defaults(handler=cmd_worklist_add)
    imp = wl_sub.add_parser("import", parents=[common], help="import items from JSON or CSV")
    imp.add_argument("file")
    imp.set_defaults(handler=cmd_worklist_import)
    _add_worklist_generate(wl_sub, common)
    lst = wl_sub.add_parser("list", parents=[common], help="list the local worklist")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_worklist_list)

    scu = argparse.ArgumentParser(add_help=False)
    scu.add_argument("--to", required=True, help="HOST:PORT or a node name from the settings")
    scu.add_argument("--aec", help="called AE title (default: the node's, or ANY-SCP)")
    scu.add_argument("--aet", help="our calling AE title (default from settings)")
    _add_tls_flags(scu, serving=False)

    ec = sub.add_parser("echo", parents=[common, scu], help="C-ECHO a node")
    ec.set_defaults(handler=cmd_echo)

    q = wl_sub.add_parser("query", parents=[common, scu], help="query a remote worklist (C-FIND)")
    q.add_argument("--date", help="YYYYMMDD, YYYYMMDD-YYYYMMDD, or today")
    q.add_argument("--modality")
    q.add_argument("--station-aet")
    q.add_argument("--patient-name", help="wildcards * and ? allowed")
    q.add_argument("--patient-id")
    q.add_argument("--accession")
    q.add_argument("--limit", type=int, default=500, help="stop (C-CANCEL) after N items")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_worklist_query)

    mp = sub.add_parser("mpps", parents=[common], help="procedure steps as a modality")
    mp_sub = mp.add_subparsers(dest="mpps_command", metavar="ACTION", required=True)
    start = mp_sub.add_parser("start", parents=[common, scu], help="N-CREATE IN PROGRESS")
    start.add_argument("--accession", help="start the worklist item with this accession")
    start.add_argument("--unscheduled", action="store_true", help="no worklist item")
    start.add_argument("--patient-name")
    start.add_argument("--patient-id")
    start.add_argument("--birth-date")
    start.add_argument("--sex")
    start.add_argument("--modality")
    _add_defer_option(start)
    start.set_defaults(handler=cmd_mpps_start)
    images_help = "transfer syntax of generated images"
    complete = mp_sub.add_parser(
        "complete", parents=[common, scu], help="store images, then N-SET COMPLETED"
    )
    complete.add_argument("uid")
    complete.add_argument("--images", type=int, default=1, help="images to generate (default 1)")
    complete.add_argument("--store-to", help="storage destination (default: --to)")
    complete.add_argument("--store-aec", help="called AE title of the storage destination")
    complete.add_argument(
        "--transfer-syntax", choices=("explicit", "rle"), default="explicit", help=images_help
    )
    _add_defer_option(complete)
    complete.set_defaults(handler=cmd_mpps_complete)
    disc = mp_sub.add_parser("discontinue", parents=[common], help="N-SET DISCONTINUED")
    disc.add_argument("uid", nargs="?")
    disc.add_argument("--to")
    disc.add_argument("--aec")
    disc.add_argument("--aet")
    _add_tls_flags(disc, serving=False)
    disc.add_argument(
        "--reason", default="110513", help="CID 9300 code value (default 110513); 'list' shows them"
    )
    _add_defer_option(disc)
    disc.set_defaults(handler=cmd_mpps_discontinue)
    _add_queue_parser(mp_sub, common)

    si = sub.add_parser("send-images", parents=[common, scu], help="generate and C-STORE images")
    si.add_argument("--count", type=int, required=True)
    si.add_argument("--modality", help="CT, MR, CR, DX, US or SC (default: the order's)")
    target = si.add_mutually_exclusive_group(required=True)
    target.add_argument("--accession")
    target.add_argument("--mpps", help="SOP Instance UID of a procedure step")
    si.add_argument(
        "--transfer-syntax", choices=("explicit", "rle"), default="explicit", help=images_help
    )
    si.set_defaults(handler=cmd_send_images)

    cm = sub.add_parser("commit", parents=[common, scu], help="request storage commitment")
    cm.add_argument("--mpps", required=True, help="SOP Instance UID of the procedure step")
    cm.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the report")
    cm.set_defaults(handler=cmd_commit)

    tl = sub.add_parser("tls", parents=[common], help="DICOM TLS helpers")
    tl_sub = tl.add_subparsers(dest="tls_command", metavar="ACTION", required=True)
    ti = tl_sub.add_parser(
        "init", parents=[common], help="write a lab CA and node certificates to DIR"
    )
    ti.add_argument("dir", metavar="DIR")
    ti.add_argument("--force", action="store_true", help="replace existing files in DIR")
    ti.set_defaults(handler=cmd_tls_init)

    _add_scenario_parser(sub, common, scu)

    st = sub.add_parser("steps", parents=[common], help="procedure steps received and sent")
    st_sub = st.add_subparsers(dest="steps_command", metavar="ACTION", required=True)
    sl = st_sub.add_parser("list", parents=[common], help="list steps, newest first")
    sl.add_argument("--status", choices=STATUSES)
    sl.add_argument("--json", action="store_true")
    sl.set_defaults(handler=cmd_steps_list)
    ss = st_sub.add_parser("show", parents=[common], help="one step with its history")
    ss.add_argument("uid")
    ss.add_argument(
        "--direction",
        choices=(RECEIVED, SENT),
        help="when this console both sent and received the step (default: received)",
    )
    ss.add_argument("--json", action="store_true")
    ss.set_defaults(handler=cmd_steps_show)
    _add_audit_parser(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = getattr(args, "handler", cmd_gui)
    locations = paths.resolve(getattr(args, "data_dir", None), getattr(args, "config", None))
    verbose = getattr(args, "verbose", False)
    console_level = (
        logging.DEBUG
        if verbose
        else (logging.INFO if args.command in ("serve", "gui", None) else logging.WARNING)
    )
    if isinstance(sys.stdout, io.TextIOWrapper):
        # Tables with a name the output encoding cannot show print '?' instead of crashing.
        sys.stdout.reconfigure(errors="replace")
    try:
        app.setup_logging(locations, console_level)
        if verbose:
            from mppsconsole.net.sockets import verbose_pynetdicom

            verbose_pynetdicom(True)
        return _run_audited(handler, args, locations)
    except (InputError, ConfigError) as exc:
        print(f"mppsconsole: error: {exc}", file=sys.stderr)
        return 2
    except UserError as exc:
        print(f"mppsconsole: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: keep the details in the log, one line for the user
        log.exception("internal error in %s", args.command)
        print(
            f"mppsconsole: internal error: {type(exc).__name__}: {exc} "
            f"(details in {locations.log_dir / 'mppsconsole.log'})",
            file=sys.stderr,
        )
        return 70
