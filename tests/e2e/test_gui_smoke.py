"""The window as a process: starts offscreen, shows, closes itself, exits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_gui_smoke_test_flag_starts_and_exits_cleanly(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[local]\nport = 0\nbind_address = "127.0.0.1"\n', encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mppsconsole",
            "gui",
            "--smoke-test",
            "--data-dir",
            str(tmp_path / "data"),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr
    assert "smoke test: window shown and closed" in result.stdout
    assert "Traceback" not in result.stderr
    assert "listening on 127.0.0.1:" in result.stderr  # the embedded SCP ran
    assert (tmp_path / "data" / "window.ini").exists()  # layout saved on close


def test_no_arguments_means_the_window(tmp_path: Path) -> None:
    """``mppsconsole`` alone is the GUI (DESIGN.md §4); a broken config still exits 2."""
    config = tmp_path / "config.toml"
    config.write_text("[local]\nport = 'x'\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mppsconsole", "--data-dir", str(tmp_path), "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 2
    assert f"{config}, line 2" in result.stderr
