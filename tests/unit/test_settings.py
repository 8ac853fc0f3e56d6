"""TOML settings: defaults, parsed values, and errors that name the file and line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mppsconsole.core.errors import ConfigError, UserError
from mppsconsole.core.settings import (
    DEFAULT_AE_TITLE,
    DEFAULT_CALLED_AE,
    DEFAULT_PORT,
    Node,
    Settings,
    load_settings,
    parse_settings,
)

PATH = Path("/etc/mppsconsole/settings.toml")


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_settings(text, PATH)
    return str(info.value)


def assert_points_at(message: str, line: int, key: str) -> None:
    assert message.startswith(f"{PATH}, line {line}: "), message
    assert key in message


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    loaded = load_settings(tmp_path / "absent.toml")
    assert loaded == Settings()
    assert loaded.ae_title == DEFAULT_AE_TITLE == "MPPSCONSOLE"
    assert loaded.port == DEFAULT_PORT == 11112
    assert loaded.bind_address == "0.0.0.0"
    assert loaded.durability == "normal"
    assert loaded.hide_finished_worklist is True
    assert loaded.nodes == ()
    assert loaded.allowed_calling_aets == ()


def test_missing_file_that_must_exist_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match="no such configuration file") as info:
        load_settings(path, must_exist=True)
    assert str(path) in str(info.value)
    assert isinstance(info.value, UserError)


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("", encoding="utf-8")
    assert load_settings(path, must_exist=True) == Settings()


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(b'[local]\nae_title = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match="cannot read") as info:
        load_settings(path)
    assert str(path) in str(info.value)


def test_directory_instead_of_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path)


def test_full_file_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        """
# the console
[local]
ae_title = "CONSOLE1"
port = 104
bind_address = "::1"
allowed_calling_aets = ["CT1", "MR 2"]
hide_finished_worklist = false
durability = "normal"

[[nodes]]
name = "pacs"
ae_title = "PACS"
host = "10.0.0.5"
port = 4242
tls = true

[[nodes]]
name = "ris"
""",
        encoding="utf-8",
    )
    loaded = load_settings(path, must_exist=True)
    assert loaded == Settings(
        ae_title="CONSOLE1",
        port=104,
        bind_address="::1",
        allowed_calling_aets=("CT1", "MR 2"),
        hide_finished_worklist=False,
        durability="normal",
        nodes=(
            Node("pacs", "PACS", "10.0.0.5", 4242, tls=True),
            Node("ris", DEFAULT_CALLED_AE, "127.0.0.1", DEFAULT_PORT, tls=False),
        ),
    )
    assert loaded.node("ris") == loaded.nodes[1]
    assert loaded.node("nope") is None
    assert loaded.node_for_ae("PACS") == loaded.nodes[0]
    assert loaded.node_for_ae("CONSOLE1") is None


def test_toml_syntax_error_names_file_and_line() -> None:
    message = error_of('[local]\nport = 104\nae_title = "unterminated\n')
    assert message.startswith(f"{PATH}: ")
    assert re.search(r"\bline 3\b", message), message


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ('[local]\nae_title = "A"\nport = "104"\n', 3, "local.port"),
        ("[local]\nport = true\n", 2, "local.port"),
        ("[local]\nport = 104.0\n", 2, "local.port"),
        ("[local]\n\n\nport = -1\n", 4, "local.port"),
        ("[local]\nport = 65536\n", 2, "local.port"),
        ("[local]\nae_title = 5\n", 2, "local.ae_title"),
        ('[local]\nae_title = "THIS_IS_SEVENTEEN"\n', 2, "local.ae_title"),
        ('[local]\nae_title = "A\\\\B"\n', 2, "local.ae_title"),
        ('[local]\nae_title = ""\n', 2, "local.ae_title"),
        ('[local]\nae_title = "    "\n', 2, "local.ae_title"),
        ('[local]\nae_title = "ABC\\n"\n', 2, "local.ae_title"),
        ('[local]\nport = 1\nbind_address = "localhost"\n', 3, "local.bind_address"),
        ('[local]\nbind_address = "300.1.2.3"\n', 2, "local.bind_address"),
        ("[local]\nbind_address = 127\n", 2, "local.bind_address"),
        ('[local]\nhide_finished_worklist = "no"\n', 2, "local.hide_finished_worklist"),
        ("[local]\nhide_finished_worklist = 0\n", 2, "local.hide_finished_worklist"),
        ('[local]\ndurability = "off"\n', 2, "local.durability"),
        ('[local]\nallowed_calling_aets = "CT1"\n', 2, "local.allowed_calling_aets"),
        ("[local]\nallowed_calling_aets = [1]\n", 2, "local.allowed_calling_aets"),
        ('[local]\nallowed_calling_aets = ["OK", "ABC\\n"]\n', 2, "local.allowed_calling_aets"),
        ('[[nodes]]\nname = "a"\ntls = "yes"\n', 3, "nodes[1].tls"),
        ('[[nodes]]\nname = "a"\nhost = 1\n', 3, "nodes[1].host"),
    ],
)
def test_invalid_value_names_file_line_and_key(text: str, line: int, key: str) -> None:
    assert_points_at(error_of(text), line, key)


def test_error_points_at_the_key_of_its_own_table() -> None:
    # The same key in an earlier table must not be blamed.
    text = '[local]\nport = 104\n\n[[nodes]]\nname = "pacs"\nport = 70000\n'
    assert_points_at(error_of(text), 6, "nodes[1].port")


def test_error_points_at_the_right_node() -> None:
    text = (
        '[[nodes]]\nname = "a"\nae_title = "A"\nport = 1\n\n'
        '[[nodes]]\nname = "b"\nae_title = "B\\\\C"\nport = 2\n'
    )
    assert_points_at(error_of(text), 8, "nodes[2].ae_title")


def test_error_after_a_later_table_still_points_into_local() -> None:
    text = '[[nodes]]\nname = "a"\nport = 1\n\n[local]\nport = 99999\n'
    assert_points_at(error_of(text), 6, "local.port")


def test_node_without_name_points_at_its_header() -> None:
    text = '[[nodes]]\nname = "a"\n\n[[nodes]]\nhost = "10.0.0.1"\n'
    message = error_of(text)
    assert_points_at(message, 4, "nodes[2].name")
    assert "needs a name" in message


def test_local_that_is_not_a_table_is_refused() -> None:
    assert "[local] must be a table" in error_of("local = 5\n")


def test_nodes_that_are_not_an_array_are_refused() -> None:
    assert "array of tables" in error_of('nodes = "pacs"\n')


@pytest.mark.parametrize("port", [0, 1, 104, 11112, 65535])
def test_ports_at_the_ends_of_the_range_are_accepted(port: int) -> None:
    assert parse_settings(f"[local]\nport = {port}\n", PATH).port == port


@pytest.mark.parametrize("flag", [True, False])
def test_booleans(flag: bool) -> None:
    text = (
        f"[local]\nhide_finished_worklist = {str(flag).lower()}\n\n"
        f'[[nodes]]\nname = "n"\ntls = {str(flag).lower()}\n'
    )
    parsed = parse_settings(text, PATH)
    assert parsed.hide_finished_worklist is flag
    assert parsed.nodes[0].tls is flag


ae_titles = st.text(
    alphabet=[chr(c) for c in range(0x20, 0x7F) if chr(c) != "\\"], min_size=1, max_size=16
).filter(lambda s: s.strip() != "")


@settings(max_examples=150, deadline=None)
@given(ae=ae_titles)
def test_any_valid_ae_title_is_accepted_unchanged(ae: str) -> None:
    text = f"[local]\nae_title = {json.dumps(ae)}\nallowed_calling_aets = [{json.dumps(ae)}]\n"
    parsed = parse_settings(text, PATH)
    assert parsed.ae_title == ae
    assert parsed.allowed_calling_aets == (ae,)


@settings(max_examples=100, deadline=None)
@given(ae=ae_titles, cut=st.integers(0, 16))
def test_ae_title_with_a_backslash_is_refused(ae: str, cut: int) -> None:
    bad = (ae[:cut] + "\\" + ae[cut:])[:16]
    if "\\" not in bad:
        bad = bad[:-1] + "\\"
    assert_points_at(error_of(f"[local]\nae_title = {json.dumps(bad)}\n"), 2, "local.ae_title")
