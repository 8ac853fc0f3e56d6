"""The access policy (core/access.py) and the [tls] / [[access]] settings tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from mppsconsole.core.access import SERVICES, AccessPolicy, AccessRule, refusal_comment
from mppsconsole.core.errors import ConfigError
from mppsconsole.core.settings import (
    Node,
    Settings,
    TlsSettings,
    dump_settings,
    parse_settings,
)

CONFIG = Path("/etc/lab/config.toml")


def test_no_rules_is_open_to_everyone() -> None:
    policy = AccessPolicy()
    assert policy.is_open
    assert policy.admit("ANYONE", "192.0.2.9").admitted
    assert all(policy.permits("ANYONE", "192.0.2.9", s) for s in SERVICES)


def test_unlisted_ae_is_refused_with_a_reason() -> None:
    decision = AccessPolicy([AccessRule("CT1")]).admit("MR1", "10.0.0.1")
    assert not decision.admitted
    assert decision.reason == "calling AE title 'MR1' is not in the access list"


def test_ae_titles_compare_without_padding_and_with_case() -> None:
    policy = AccessPolicy([AccessRule("CT1")])
    assert policy.admit("CT1 ", "10.0.0.1").admitted
    assert not policy.admit("ct1", "10.0.0.1").admitted


@pytest.mark.parametrize(
    ("address", "admitted"),
    [
        ("10.0.0.7", True),
        ("10.0.0.200", True),
        ("10.0.1.7", False),
        ("192.168.1.5", True),
        ("::ffff:10.0.0.7", True),  # an IPv4 peer on a dual-stack socket
        ("fe80::1%eth0", False),
        ("not-an-address", False),
    ],
)
def test_hosts_are_addresses_or_networks(address: str, admitted: bool) -> None:
    policy = AccessPolicy([AccessRule("CT1", hosts=("10.0.0.0/24", "192.168.1.5"))])
    decision = policy.admit("CT1", address)
    assert decision.admitted is admitted
    if not admitted:
        assert decision.reason == (
            f"calling AE title 'CT1' is not allowed from {address} (only 10.0.0.0/24, 192.168.1.5)"
        )


def test_services_are_granted_per_entry_and_host() -> None:
    policy = AccessPolicy(
        [
            AccessRule("CT1", hosts=("10.0.0.7",), services=("worklist", "mpps")),
            AccessRule("CT1", hosts=("10.0.0.8",), services=("storage",)),
        ]
    )
    assert policy.permits("CT1", "10.0.0.7", "worklist")
    assert not policy.permits("CT1", "10.0.0.7", "storage")
    assert policy.permits("CT1", "10.0.0.8", "storage")
    assert not policy.permits("CT1", "10.0.0.8", "mpps")
    assert not policy.permits("MR1", "10.0.0.7", "worklist")
    with pytest.raises(ValueError, match="unknown service"):
        policy.permits("CT1", "10.0.0.7", "printing")


def test_an_entry_without_services_grants_all() -> None:
    policy = AccessPolicy([AccessRule("CT1")])
    assert all(policy.permits("CT1", "198.51.100.1", s) for s in SERVICES)


def test_rules_check_their_own_values() -> None:
    with pytest.raises(ValueError, match="unknown service 'print'"):
        AccessRule("CT1", services=("print",))
    with pytest.raises(ValueError, match=r"not an IP address or network: 'ris\.local'"):
        AccessRule("CT1", hosts=("ris.local",))


def test_refusal_comment_fits_an_lo() -> None:
    assert refusal_comment("CT1 ", "worklist") == "CT1 is not authorized for worklist"
    assert len(refusal_comment("A" * 16, "commitment" * 10)) == 64


# --- settings -----------------------------------------------------------------------------


def test_legacy_allowed_calling_aets_mean_every_service_from_anywhere() -> None:
    settings = Settings(
        allowed_calling_aets=("OLD1",),
        access=(AccessRule("NEW1", hosts=("10.0.0.1",), services=("verification",)),),
    )
    policy = settings.access_policy()
    assert all(policy.permits("OLD1", "203.0.113.4", s) for s in SERVICES)
    assert policy.permits("NEW1", "10.0.0.1", "verification")
    assert not policy.permits("NEW1", "10.0.0.1", "storage")
    assert not policy.admit("OTHER", "10.0.0.1").admitted


def test_access_and_tls_tables_are_parsed_and_written_back() -> None:
    text = """
[tls]
cert = "certs/node.pem"
key = "/srv/keys/node-key.pem"
ca = "certs/ca.pem"
require_client_cert = true

[[access]]
ae_title = "CT1"
hosts = ["127.0.0.1", "10.0.0.0/24"]
services = ["worklist", "mpps"]

[[access]]
ae_title = "MR1"
"""
    settings = parse_settings(text, CONFIG)
    assert settings.tls == TlsSettings(
        cert="/etc/lab/certs/node.pem",  # relative to the settings file
        key="/srv/keys/node-key.pem",
        ca="/etc/lab/certs/ca.pem",
        require_client_cert=True,
    )
    assert settings.access == (
        AccessRule("CT1", ("127.0.0.1", "10.0.0.0/24"), ("worklist", "mpps")),
        AccessRule("MR1"),
    )
    assert parse_settings(dump_settings(settings), CONFIG) == settings


def test_no_tls_table_means_plain() -> None:
    settings = parse_settings("[local]\nport = 104\n", CONFIG)
    assert settings.tls is None
    assert settings.access == ()
    assert settings.node("self") == Node("self", "MPPSCONSOLE", "127.0.0.1", 104)


def test_self_and_tls_nodes_carry_the_tls_files() -> None:
    text = """
[tls]
cert = "/c/node.pem"
key = "/c/node-key.pem"
ca = "/c/ca.pem"

[[nodes]]
name = "pacs"
host = "10.0.0.5"
tls = true

[[nodes]]
name = "plain"
host = "10.0.0.6"
"""
    settings = parse_settings(text, CONFIG)
    own = settings.node("self")
    assert own is not None and own.tls and own.tls_files == settings.tls
    pacs = settings.node("pacs")
    assert pacs is not None and pacs.tls_files == settings.tls
    plain = settings.node("plain")
    assert plain is not None and not plain.tls and plain.tls_files is None


@pytest.mark.parametrize(
    ("text", "line", "where"),
    [
        ('[tls]\ncert = "a.pem"\n', 1, "tls.key: cert and key go together"),  # the table
        ("[tls]\ncert = 1\n", 2, "tls.cert: expected str"),
        (
            '[tls]\ncert = "a"\nkey = "b"\nrequire_client_cert = true\n',
            4,
            "tls.require_client_cert: needs cert, key and ca",
        ),
        ('[[access]]\nhosts = ["1.2.3.4"]\n', 1, "access[1].ae_title: every access entry needs"),
        (
            '[[access]]\nae_title = "A"\n\n[[access]]\nae_title = "B"\nhosts = ["x"]\n',
            6,
            "access[2].hosts: not an IP address or network: 'x'",
        ),
        (
            '[[access]]\nae_title = "A"\nservices = ["worklist", "query"]\n',
            3,
            "access[1].services: unknown service 'query'",
        ),
        ('[[access]]\nae_title = "A"\nservice = ["mpps"]\n', 3, "access[1].service: unknown key"),
        ('[[access]]\nae_title = "A\\\\B"\n', 2, "access[1].ae_title: invalid AE title"),
        ('access = "CT1"\n', None, "access must be an array of tables"),
    ],
)
def test_mistakes_name_file_and_line(text: str, line: int | None, where: str) -> None:
    with pytest.raises(ConfigError) as failure:
        parse_settings(text, CONFIG)
    at = f", line {line}: " if line else ": "
    assert str(failure.value).startswith(f"{CONFIG}{at}{where}"), str(failure.value)
