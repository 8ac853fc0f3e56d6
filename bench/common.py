"""What every benchmark shares: options, rounds and statistics, tables, child processes.

Contender and baseline rounds alternate (A B A B ...), so that load from other
work on the machine falls on both alike; a figure is the median of its rounds
with the min and max beside it, and a ratio is the median of the per-round
ratios (each contender round against the baseline round next to it).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
import queue
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

LOOPBACK = "127.0.0.1"
PYTHON = sys.executable
DCMTK = Path("/usr/bin")
#: Any single wait of a benchmark (a server starting, a process ending) is bounded by this.
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


@dataclasses.dataclass(frozen=True)
class Options:
    quick: bool = False
    rounds: int = 3
    #: Parts of a benchmark to run (e.g. ``load`` of gui); empty for all of them.
    only: tuple[str, ...] = ()

    def pick(self, full: int, quick: int) -> int:
        """``quick`` in smoke mode, else ``full``."""
        return quick if self.quick else full


# --------------------------------------------------------------------- statistics


@dataclasses.dataclass(frozen=True)
class Figure:
    """Per-round values of one measurement."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    def show(self, fmt: str = "{:.1f}") -> str:
        if not self.values:
            return "n/a"
        if len(self.values) == 1:
            return fmt.format(self.values[0])
        return (
            f"{fmt.format(self.median)} "
            f"[{fmt.format(min(self.values))}–{fmt.format(max(self.values))}]"
        )


def ratio(contender: Figure, baseline: Figure) -> Figure:
    """Per-round contender/baseline (paired by round), as a Figure."""
    pairs = zip(contender.values, baseline.values, strict=False)
    return Figure(tuple(c / b for c, b in pairs if b))


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def alternate(rounds: int, contenders: dict[str, Callable[[], float]]) -> dict[str, Figure]:
    """Run each measurement once per round, in turn (A B C A B C ...), and collect them."""
    collected: dict[str, list[float]] = {name: [] for name in contenders}
    for number in range(rounds):
        order = list(contenders.items())
        if number % 2:  # A B, then B A: neither side always goes first
            order.reverse()
        for name, measure in order:
            collected[name].append(measure())
    return {name: Figure(tuple(values)) for name, values in collected.items()}


# ------------------------------------------------------------------------ tables


@dataclasses.dataclass
class Table:
    """One block of results: printed at once, and kept for bench/RESULTS.md."""

    title: str
    headers: list[str]
    rows: list[list[str]] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    def text(self) -> str:
        widths = [
            max(len(r[i]) for r in [self.headers, *self.rows]) for i in range(len(self.headers))
        ]
        lines = [self.title, "-" * len(self.title)]
        for row in [self.headers, *self.rows]:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        lines.extend(f"  * {note}" for note in self.notes)
        return "\n".join(lines)

    def markdown(self) -> str:
        lines = [f"### {self.title}", ""]
        lines.append("| " + " | ".join(self.headers) + " |")
        lines.append("|" + "|".join(" --- " for _ in self.headers) + "|")
        lines.extend("| " + " | ".join(row) + " |" for row in self.rows)
        if self.notes:
            lines.append("")
            lines.extend(f"* {note}" for note in self.notes)
        return "\n".join(lines)


def emit(table: Table) -> Table:
    print(table.text(), "\n", flush=True)
    return table


def say(text: str) -> None:
    """Progress on stderr (the figures go to stdout)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# -------------------------------------------------------------- temp dirs, ports


_TEMP_DIRS: list[Path] = []


def temp_dir(prefix: str) -> Path:
    """A fresh directory, removed at exit (and by :func:`cleanup`)."""
    path = Path(tempfile.mkdtemp(prefix=f"mppsbench-{prefix}-"))
    _TEMP_DIRS.append(path)
    return path


def remove_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(ValueError):
        _TEMP_DIRS.remove(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    """True when a socket listens on ``port`` (from /proc: no probe connection)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    return True
    return False


def dcmtk_env() -> dict[str, str]:
    """DCMTK honours TCP_NODELAY=1 (DESIGN.md §5)."""
    return {**os.environ, "TCP_NODELAY": "1"}


def dcmtk_tool(name: str) -> Path | None:
    path = DCMTK / name
    return path if path.exists() else None


# ------------------------------------------------------------------- processes


_CHILDREN: list[subprocess.Popen[Any]] = []


class Child:
    """A process we started: stdout read line by line on a thread, stderr to a file."""

    def __init__(
        self,
        cmd: Sequence[str],
        *,
        log: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.cmd = list(cmd)
        self.log = log
        self._log_file: IO[bytes] = open(log, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            self.cmd,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            text=True,
        )
        _CHILDREN.append(self.proc)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stdout: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.stdout.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def wait_for_line(self, pattern: str, timeout: float = START_TIMEOUT_S) -> re.Match[str]:
        """The first stdout line matching ``pattern``; RuntimeError if none in time."""
        deadline = time.monotonic() + timeout
        compiled = re.compile(pattern)
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(0.01, left))
            except queue.Empty:
                line = ""
            if line is None or left <= 0:
                break
            match = compiled.search(line)
            if match:
                return match
        self.stop()
        raise RuntimeError(
            f"{self.cmd[0]}: no line matching {pattern!r} within {timeout:.0f} s; "
            f"stderr: {self.log.read_text(errors='replace')[-2000:]}"
        )

    def wait_listening(self, port: int, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not listening(port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"{self.cmd[0]} did not listen on {port}: "
                    f"{self.log.read_text(errors='replace')[-2000:]}"
                )
            time.sleep(0.02)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM, then SIGKILL if it does not end in time; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        self._log_file.close()
        with contextlib.suppress(ValueError):
            _CHILDREN.remove(self.proc)
        return self.proc.returncode


@contextlib.contextmanager
def running(child: Child) -> Iterator[Child]:
    try:
        yield child
    finally:
        child.stop()


def cleanup() -> None:
    """End every child still running and remove every temp dir (at exit, or on a timeout)."""
    for proc in list(_CHILDREN):
        if proc.poll() is None:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=STOP_TIMEOUT_S)
    _CHILDREN.clear()
    for path in list(_TEMP_DIRS):
        shutil.rmtree(path, ignore_errors=True)
    _TEMP_DIRS.clear()


atexit.register(cleanup)


def watchdog(seconds: float, what: str) -> Callable[[], None]:
    """Abort the whole run (children ended, temp dirs removed) if ``what`` overruns."""
    done = threading.Event()

    def watch() -> None:
        if not done.wait(seconds):
            say(f"{what} did not finish within {seconds:.0f} s: aborting")
            cleanup()
            os._exit(3)

    threading.Thread(target=watch, daemon=True, name=f"watchdog {what}").start()
    return done.set


# -------------------------------------------------------------- mppsconsole serve


MPPSCONSOLE_AET = "MPPSCONSOLE"


def start_serve(data_dir: Path, *extra: str) -> tuple[Child, int]:
    """``mppsconsole serve`` on a free loopback port: (process, port)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    child = Child(
        [
            PYTHON,
            "-m",
            "mppsconsole",
            "serve",
            "--data-dir",
            str(data_dir),
            "--host",
            LOOPBACK,
            "--port",
            "0",
            *extra,
        ],
        log=data_dir.parent / f"{data_dir.name}-serve.log",
    )
    match = child.wait_for_line(r"listening on ([\d.]+):(\d+)")
    return child, int(match.group(2))


def start_peer(kind: str, log_dir: Path, *args: str) -> tuple[Child, int]:
    """A baseline server of bench.peers in its own process: (process, port)."""
    child = Child(
        [PYTHON, "-m", "bench.peers", kind, *args],
        log=log_dir / f"peer-{kind}.log",
        cwd=Path(__file__).resolve().parent.parent,
    )
    match = child.wait_for_line(r"listening on ([\d.]+):(\d+)")
    return child, int(match.group(2))


def versions() -> dict[str, str]:
    import platform

    import pydicom
    import pynetdicom

    try:
        import PySide6

        pyside = PySide6.__version__
    except ImportError:
        pyside = "not installed"
    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        cpu = next((line.split(":", 1)[1].strip() for line in info if "model name" in line), "")
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu or platform.processor(),
        "python": platform.python_version(),
        "pynetdicom": pynetdicom.__version__,
        "pydicom": pydicom.__version__,
        "PySide6": pyside,
        "platform": platform.platform(),
    }
