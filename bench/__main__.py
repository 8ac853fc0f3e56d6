"""``python -m bench NAME [--quick] [--rounds N] [--only PART ...] [--markdown FILE]``: run
benchmarks.

NAME is one of mpps, soak, store, mwl, gui, or all; ``--only`` picks parts of a
benchmark that has them (gui: updates, images, load, startup). Figures go to stdout,
progress to stderr; ``--markdown`` also writes them (with the date, the machine
and the library versions) to FILE, e.g. bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Options, Table, cleanup, say, versions, watchdog

BENCHMARKS = ("mpps", "soak", "store", "mwl", "gui")
#: Wall-clock limit of one benchmark with 3 rounds (more rounds: proportionally more).
LIMIT_S = {"mpps": 600, "soak": 1800, "store": 600, "mwl": 600, "gui": 900}
#: The limit of one benchmark in smoke mode.
QUICK_LIMIT_S = 180


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def revision() -> str:
    """The commit measured, and whether mppsconsole/ had uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "mppsconsole"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'}{' + uncommitted changes in mppsconsole/' if dirty else ''}"


def markdown(
    tables: dict[str, list[Table]],
    opts: Options,
    elapsed: float,
    loads: tuple[str, str],
    code: tuple[str, str],
) -> str:
    info = versions()
    lines = [
        "# Benchmark results",
        "",
        f"Run {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} with "
        f"`python -m bench {' '.join(sys.argv[1:])}` "
        f"({'smoke mode' if opts.quick else f'{opts.rounds} rounds'}, {elapsed / 60:.1f} min).",
        "",
        f"* Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}, {info['platform']}",
        f"* Python {info['python']}, pynetdicom {info['pynetdicom']}, "
        f"pydicom {info['pydicom']}, PySide6 {info['PySide6']}",
        f"* Code: {code[0]}"
        + (
            ""
            if code[0] == code[1]
            else f" at the start, {code[1]} at the end (each benchmark "
            "measures the working tree as it was when that benchmark started)"
        ),
        f"* Load average (1/5/15 min) at the start: {loads[0]}; at the end: {loads[1]}",
        "* Loopback only (127.0.0.1); other work may have been running on the machine, "
        "which is why rounds alternate and figures are medians with [min–max].",
        "",
    ]
    for name, blocks in tables.items():
        lines.append(f"## {name}")
        lines.append("")
        for table in blocks:
            lines.append(table.markdown())
            lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("name", choices=(*BENCHMARKS, "all"))
    parser.add_argument("--quick", action="store_true", help="smoke mode: a handful of iterations")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per measurement")
    parser.add_argument(
        "--only",
        nargs="+",
        default=[],
        metavar="PART",
        help="only these parts of the benchmark (gui: updates, images, load, startup)",
    )
    parser.add_argument("--markdown", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    opts = Options(quick=args.quick, rounds=max(1, rounds), only=tuple(args.only))
    names = BENCHMARKS if args.name == "all" else (args.name,)
    tables: dict[str, list[Table]] = {}
    started = time.monotonic()
    load_at_start = load_average()
    code_at_start = revision()
    try:
        for name in names:
            say(f"{name} starts")
            limit = QUICK_LIMIT_S if opts.quick else LIMIT_S[name] * max(1.0, opts.rounds / 3)
            done = watchdog(limit, name)
            module = importlib.import_module(f"bench.{name}")
            tables[name] = module.run(opts)
            done()
            say(f"{name} done after {time.monotonic() - started:.0f} s in all")
    finally:
        cleanup()
    if args.markdown:
        args.markdown.write_text(
            markdown(
                tables,
                opts,
                time.monotonic() - started,
                (load_at_start, load_average()),
                (code_at_start, revision()),
            ),
            encoding="utf-8",
        )
        say(f"results written to {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
