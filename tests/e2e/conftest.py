"""The ``serve`` subprocess for end-to-end tests, with its stderr drained as it runs.

The shared :class:`tests.conftest.ServeProcess` reads stderr only when it stops;
``serve`` logs a few lines per association at INFO, and a busy test would fill
the 64 KiB pipe and block the server on a log write. Here a thread keeps
reading, and the text is still returned by :meth:`DrainedServe.stop`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServeProcess

CLI_TIMEOUT = 30


class DrainedServe(ServeProcess):
    def __init__(
        self,
        data_dir: Path,
        config: Path | None = None,
        *extra: str,
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(data_dir, config, *extra, preexec_fn=preexec_fn)
        self._stderr: list[str] = []
        self._stdout: list[str] = []
        self._readers = [
            threading.Thread(
                target=self._drain, args=(self.proc.stderr, self._stderr), daemon=True
            ),
            threading.Thread(
                target=self._drain, args=(self.proc.stdout, self._stdout), daemon=True
            ),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _drain(stream: Any, sink: list[str]) -> None:
        for line in stream:
            sink.append(line)

    @property
    def stderr_so_far(self) -> str:
        return "".join(self._stderr)

    def _finish(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=timeout)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None and not any(r.is_alive() for r in self._readers):
                stream.close()

    def stop(self, timeout: float = 15) -> tuple[int, str]:
        """SIGTERM, wait, and return (exit status, stderr)."""
        if self.proc.poll() is None:
            self.proc.terminate()
        self._finish(timeout)
        return self.proc.returncode, "".join(self._stderr)

    def signal(self, signum: int, timeout: float = 15) -> tuple[int, str, str]:
        """Send ``signum``, wait, and return (exit status, stdout, stderr)."""
        self.proc.send_signal(signum)
        self._finish(timeout)
        return self.proc.returncode, "".join(self._stdout), "".join(self._stderr)

    def kill9(self) -> None:
        self.proc.kill()
        self._finish(15)


@pytest.fixture
def serve(data_dir: Path) -> Iterator[DrainedServe]:
    process = DrainedServe(data_dir)
    yield process
    process.stop()


def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = CLI_TIMEOUT,
    encoding: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m mppsconsole ARGS`` with a bounded run time (output in the locale's encoding)."""
    return subprocess.run(
        [sys.executable, "-m", "mppsconsole", *args],
        capture_output=True,
        text=True,
        encoding=encoding,
        env=env,
        timeout=timeout,
        check=False,
    )


def steps_json(data_dir: Path) -> list[dict[str, Any]]:
    result = run_cli("steps", "list", "--json", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    return data
