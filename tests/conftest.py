"""Shared fixtures: a temporary data dir, an in-process SCP, a ``serve`` subprocess."""

from __future__ import annotations

import os

# Qt must not look for a display in tests (CI has none); set before PySide6 loads.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mppsconsole.core.settings import Node, Settings
from mppsconsole.net.server import DepartmentServer
from mppsconsole.store.db import Database

LOOPBACK = "127.0.0.1"
DCMTK_TOOLS = ("echoscu", "findscu", "storescu", "storescp", "wlmscpfs", "dcmdump")


def dcmtk(tool: str) -> str:
    """Full path of a DCMTK tool (pynetdicom puts same-named scripts on the venv PATH)."""
    path = f"/usr/bin/{tool}"
    if not os.path.exists(path):
        pytest.fail(f"{path} missing: install the Debian package dcmtk (see .ci/run)")
    return path


def dcmtk_env() -> dict[str, str]:
    """DCMTK honours TCP_NODELAY=1; without it every message waits on a delayed ACK."""
    return {**os.environ, "TCP_NODELAY": "1"}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def db(data_dir: Path) -> Iterator[Database]:
    database = Database(data_dir / "mppsconsole.sqlite3")
    yield database
    database.close()


class RunningServer:
    """An in-process department node on a free loopback port."""

    def __init__(self, db: Database, settings: Settings, images_dir: Path) -> None:
        self.db = db
        self.settings = settings
        self.images_dir = images_dir
        self.server = DepartmentServer(db, settings, images_dir)
        self.host, self.port = self.server.start(LOOPBACK, 0)

    @property
    def ae_title(self) -> str:
        return self.settings.ae_title

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def scp_settings() -> Settings:
    """Override in a test module to change the server's settings."""
    return Settings(bind_address=LOOPBACK, nodes=(Node("self", "MPPSCONSOLE", LOOPBACK, 0),))


@pytest.fixture
def scp(db: Database, scp_settings: Settings, data_dir: Path) -> Iterator[RunningServer]:
    server = RunningServer(db, scp_settings, data_dir / "images")
    yield server
    server.stop()


class ServeProcess:
    """``mppsconsole serve`` as a subprocess on a free loopback port."""

    def __init__(
        self,
        data_dir: Path,
        config: Path | None = None,
        *extra: str,
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        """``preexec_fn`` runs in the child before ``serve`` starts (e.g. to set rlimits)."""
        self.data_dir = data_dir
        cmd = [
            sys.executable,
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
        ]
        if config is not None:
            cmd += ["--config", str(config)]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=preexec_fn
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.search(r"listening on ([\d.]+):(\d+)", line)
        if not match:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
            raise AssertionError(f"serve did not start: {line!r} {err}")
        self.host, self.port = match.group(1), int(match.group(2))

    def stop(self, timeout: float = 15) -> tuple[int, str]:
        """SIGTERM, wait, and return (exit status, stderr)."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, err

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.communicate(timeout=15)


@pytest.fixture
def serve(data_dir: Path) -> Iterator[ServeProcess]:
    process = ServeProcess(data_dir)
    yield process
    process.stop()


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.02) -> bool:  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until true or ``timeout`` seconds pass (bounded loop)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def have(tool: str) -> bool:
    return shutil.which(tool, path="/usr/bin") is not None
