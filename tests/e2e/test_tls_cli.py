"""``mppsconsole tls init`` output used as is by ``serve`` and ``echo`` (processes)."""

from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path

from tests.conftest import LOOPBACK, ServeProcess
from tests.e2e.conftest import run_cli
from tests.e2e.test_cli import assert_one_line_error


def tls_init(folder: Path, *extra: str) -> tuple[str, Path]:
    result = run_cli("tls", "init", str(folder), *extra)
    assert result.returncode == 0, result.stderr
    return result.stdout, folder


def echo(data_dir: Path, port: int, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "echo",
        "--to",
        f"{LOOPBACK}:{port}",
        "--aec",
        "MPPSCONSOLE",
        "--data-dir",
        str(data_dir),
        *extra,
    )


def test_tls_init_then_serve_and_echo(tmp_path: Path) -> None:
    out, certs = tls_init(tmp_path / "certs")
    names = ["ca.pem", "ca-key.pem", "node.pem", "node-key.pem", "peer.pem", "peer-key.pem"]
    for name in names:
        assert f"wrote {certs / name}" in out
        mode = stat.S_IMODE((certs / name).stat().st_mode)
        if name.endswith("-key.pem"):
            assert mode == 0o600, (name, oct(mode))
    # The settings lines it prints, pasted into a config file, make the SCP speak TLS.
    block = re.search(r"^\[tls\]\n(?:.+\n)+", out, re.MULTILINE)
    assert block is not None, out
    config = tmp_path / "config.toml"
    config.write_text(block.group(0).replace("= false", "= true"), encoding="utf-8")
    data = tmp_path / "scp-data"
    data.mkdir()
    serve = ServeProcess(data, config)
    try:
        peer = ("--tls-cert", str(certs / "peer.pem"), "--tls-key", str(certs / "peer-key.pem"))
        ok = echo(tmp_path, serve.port, *peer, "--tls-ca", str(certs / "ca.pem"))
        assert ok.returncode == 0, ok.stderr
        assert "success" in ok.stdout
        # No client certificate: require_client_cert = true refuses it, with the reason.
        anonymous = echo(tmp_path, serve.port, "--tls-ca", str(certs / "ca.pem"))
        assert_one_line_error(anonymous, 1, "server requires a client certificate")
        # Plain TCP to the TLS port: refused, and serve goes on.
        assert_one_line_error(echo(tmp_path, serve.port), 1, f"{LOOPBACK}:{serve.port}")
        again = echo(tmp_path, serve.port, *peer, "--tls-ca", str(certs / "ca.pem"))
        assert again.returncode == 0, again.stderr
    finally:
        code, err = serve.stop()
    assert code == 0, err
    assert "Traceback" not in err
    log = (data / "logs" / "mppsconsole.log").read_text(encoding="utf-8")
    assert "TLS handshake with 127.0.0.1:" in log
    assert "the client sent no certificate" in log


def test_serve_tls_flags_override_the_settings(tmp_path: Path) -> None:
    _, certs = tls_init(tmp_path / "certs")
    data = tmp_path / "scp-data"
    data.mkdir()
    flags = (
        "--tls-cert",
        str(certs / "node.pem"),
        "--tls-key",
        str(certs / "node-key.pem"),
        "--tls-ca",
        str(certs / "ca.pem"),
    )
    serve = ServeProcess(data, None, *flags)
    try:
        # --tls alone uses the settings' [tls] table: here there is none, so the
        # system trust store, which does not know the lab CA.
        unknown = echo(tmp_path, serve.port, "--tls")
        assert_one_line_error(unknown, 1, "certificate verify failed: unknown CA")
        trusted = echo(tmp_path, serve.port, "--tls-ca", str(certs / "ca.pem"))
        assert trusted.returncode == 0, trusted.stderr
    finally:
        code, err = serve.stop()
    assert code == 0, err


def test_tls_init_refuses_to_overwrite(tmp_path: Path) -> None:
    tls_init(tmp_path / "certs")
    before = (tmp_path / "certs" / "ca.pem").read_bytes()
    again = run_cli("tls", "init", str(tmp_path / "certs"))
    assert_one_line_error(again, 2, "exists; use --force")
    assert (tmp_path / "certs" / "ca.pem").read_bytes() == before
    tls_init(tmp_path / "certs", "--force")
    assert (tmp_path / "certs" / "ca.pem").read_bytes() != before


def test_unusable_tls_files_are_config_errors(tmp_path: Path) -> None:
    _, certs = tls_init(tmp_path / "certs")
    data = tmp_path / "data"
    base = ("serve", "--data-dir", str(data), "--host", LOOPBACK, "--port", "0")
    half = run_cli(*base, "--tls-cert", str(certs / "node.pem"))
    assert_one_line_error(half, 2, "--tls-cert and --tls-key go together")
    mismatch = run_cli(
        *base, "--tls-cert", str(certs / "node.pem"), "--tls-key", str(certs / "peer-key.pem")
    )
    assert_one_line_error(mismatch, 2, "private key does not match the certificate")
    missing_ca = echo(tmp_path, 1, "--tls-ca", str(tmp_path / "nope.pem"))
    assert_one_line_error(missing_ca, 2, "cannot read the CA certificate")
