"""``mppsconsole serve --profile FILE``: a bad file stops it with file:line, SIGHUP reloads."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.conftest import wait_until
from tests.e2e import peer
from tests.e2e.conftest import DrainedServe, run_cli

REJECT_ECHOSCU = """mode = "strict"

[[faults]]
service = "association"
calling_ae = "ECHOSCU"     # DCMTK echoscu's default calling AE title
action = "reject"
reason = 3
"""


def test_bad_profile_exits_2_naming_file_and_line(tmp_path: Path, data_dir: Path) -> None:
    profile = tmp_path / "bad.toml"
    profile.write_text('mode = "strict"\n\n[[faults]]\nservice = "mpps"\naction = "delay"\n')
    result = run_cli("serve", "--data-dir", str(data_dir), "--port", "0", "--profile", str(profile))
    assert result.returncode == 2
    assert f"{profile}, line 4: faults[1].service: unknown service 'mpps'" in result.stderr
    assert "Traceback" not in result.stderr
    assert "listening" not in result.stdout


def test_missing_profile_exits_2(tmp_path: Path, data_dir: Path) -> None:
    missing = tmp_path / "none.toml"
    result = run_cli("serve", "--data-dir", str(data_dir), "--port", "0", "--profile", str(missing))
    assert result.returncode == 2
    assert f"{missing}: no such profile file" in result.stderr


def test_profile_applies_and_sighup_reloads_it(tmp_path: Path, data_dir: Path) -> None:
    profile = tmp_path / "behaviour.toml"
    profile.write_text(REJECT_ECHOSCU)
    process = DrainedServe(data_dir, None, "--profile", str(profile))
    try:
        rejected = peer.echoscu(process.port)
        assert rejected.returncode != 0
        assert "Calling AE Title Not Recognized" in rejected.stdout + rejected.stderr

        profile.write_text('mode = "lenient"\n')
        process.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: peer.echoscu(process.port).returncode == 0, timeout=20)

        profile.write_text('mode = "sloppy"\n')  # a broken reload keeps the active profile
        process.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: "Profile not reloaded" in process.stderr_so_far, timeout=20)
        assert peer.echoscu(process.port).returncode == 0
    finally:
        code, err = process.stop()
    assert code == 0, err
    assert f"{profile}, line 1: mode: expected one of strict, lenient" in err
