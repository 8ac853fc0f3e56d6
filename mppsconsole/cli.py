"""The sub-commands of DESIGN.md §4: argument parsing and printing, nothing else.

Exit status: 0 success; 1 a DICOM failure, rejected/aborted association or
unreachable peer; 2 bad usage or bad input. Expected failures print one line.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mppsconsole import __version__, app, paths
from mppsconsole.core.errors import ConfigError, InputError, UserError
from mppsconsole.core.mpps import STATUSES
from mppsconsole.core.worklist import build_item
from mppsconsole.core.worklist_file import parse_worklist_file
from mppsconsole.store import instances, steps, worklist

log = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace, paths.Locations], int]


def _print_table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line.rstrip())
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    print()


# --- serve -----------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, locations: paths.Locations) -> int:
    from mppsconsole.net.server import DepartmentServer

    settings = app.load(locations)
    if args.aet:
        settings = _replace(settings, ae_title=args.aet)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with app.open_store(locations, settings) as db:
        server = DepartmentServer(db, settings, locations.images_dir)
        host, port = server.start(args.host, args.port)
        print(f"MPPS Console SCP {settings.ae_title} listening on {host}:{port}", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        finally:
            server.stop()
    print("stopped", flush=True)
    return 0


def _replace(settings: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(settings, **changes)


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


def cmd_worklist_list(args: argparse.Namespace, locations: paths.Locations) -> int:
    settings = app.load(locations)
    with app.open_store(locations, settings) as db, db.reading() as conn:
        items = worklist.list_items(conn)
    if args.json:
        _print_json([item.to_json() for item in items])
        return 0
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
    return 0


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
        stored = steps.get(conn, args.uid)
        history = steps.messages(conn, args.uid)
        linked = instances.for_step(conn, args.uid)
    if stored is None:
        raise InputError(f"no procedure step {args.uid}")
    if args.json:
        data = stored.summary.to_json()
        data["attributes"] = json.loads(stored.dataset_json)
        data["messages"] = [m.to_json() for m in history]
        data["instances"] = [i.to_json() for i in linked]
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
        print(f"  {i.sop_instance_uid} {i.path}")
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="mppsconsole",
        parents=[common],
        description="MPPS Console: DICOM worklist, MPPS, storage and commitment, both sides.",
    )
    parser.add_argument("--version", action="version", version=f"mppsconsole {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser(
        "serve", parents=[common], help="run the SCP headless until SIGINT/SIGTERM"
    )
    serve.add_argument("--aet", help="local AE title (default from settings: MPPSCONSOLE)")
    serve.add_argument("--port", type=int, help="port to listen on (0: any free port)")
    serve.add_argument("--host", help="address to bind (default from settings)")
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
    lst = wl_sub.add_parser("list", parents=[common], help="list the local worklist")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_worklist_list)

    st = sub.add_parser("steps", parents=[common], help="procedure steps received and sent")
    st_sub = st.add_subparsers(dest="steps_command", metavar="ACTION", required=True)
    sl = st_sub.add_parser("list", parents=[common], help="list steps, newest first")
    sl.add_argument("--status", choices=STATUSES)
    sl.add_argument("--json", action="store_true")
    sl.set_defaults(handler=cmd_steps_list)
    ss = st_sub.add_parser("show", parents=[common], help="one step with its history")
    ss.add_argument("uid")
    ss.add_argument("--json", action="store_true")
    ss.set_defaults(handler=cmd_steps_show)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    locations = paths.resolve(getattr(args, "data_dir", None), getattr(args, "config", None))
    verbose = getattr(args, "verbose", False)
    console_level = (
        logging.DEBUG if verbose else (logging.INFO if args.command == "serve" else logging.WARNING)
    )
    try:
        app.setup_logging(locations, console_level)
        return handler(args, locations)
    except (InputError, ConfigError) as exc:
        print(f"mppsconsole: error: {exc}", file=sys.stderr)
        return 2
    except UserError as exc:
        print(f"mppsconsole: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
