"""A self-signed lab CA and node certificates (``mppsconsole tls init DIR``).

For a lab, a demo or tests, not for a hospital PKI: one CA, a certificate for
this console (a server and client certificate naming localhost, 127.0.0.1 and
the machine's name) and one for a peer. ECDSA P-256 keys and SHA-256
signatures, which every BCP 195 TLS stack accepts (DCMTK included). Private
keys are written unencrypted with mode 0600: the SCP must start unattended.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import os
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mppsconsole.core.errors import InputError

#: Validity of generated certificates: a lab setup should not expire mid-project.
VALIDITY = dt.timedelta(days=825)


@dataclasses.dataclass(frozen=True)
class Issued:
    """A certificate with its key, both PEM."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MPPS Console lab"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_ca(common_name: str = "MPPS Console lab CA", *, now: dt.datetime | None = None) -> Issued:
    start = now or dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - dt.timedelta(minutes=5))
        .not_valid_after(start + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def default_names() -> list[str]:
    """localhost, 127.0.0.1, ::1 and this machine's name: what a peer may call us."""
    names = ["localhost", "127.0.0.1", "::1"]
    host = socket.gethostname()
    if host and host not in names:
        names.append(host)
    return names


def make_node(
    ca: Issued,
    common_name: str,
    names: list[str],
    *,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Issued:
    """A certificate for a DICOM node, usable as TLS server and client (DICOM nodes are both)."""
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(not_after or start + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    if alt:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def write_pair(issued: Issued, cert_path: Path, key_path: Path | None) -> None:
    """Certificate readable by all, key by the owner only (created 0600, never widened)."""
    cert_path.write_bytes(issued.cert_pem)
    if key_path is not None:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(issued.key_pem)
        os.chmod(key_path, 0o600)


@dataclasses.dataclass(frozen=True)
class LabFiles:
    """What :func:`init_lab` wrote."""

    ca_cert: Path
    ca_key: Path
    node_cert: Path
    node_key: Path
    peer_cert: Path
    peer_key: Path

    def paths(self) -> list[Path]:
        return [getattr(self, f.name) for f in dataclasses.fields(self)]


def init_lab(directory: Path, *, force: bool = False) -> LabFiles:
    """A CA, this console's certificate and a peer's, in ``directory``.

    Refuses to overwrite existing files unless ``force``: replacing a CA
    silently would lock out every peer that trusts the old one.
    """
    files = LabFiles(
        ca_cert=directory / "ca.pem",
        ca_key=directory / "ca-key.pem",
        node_cert=directory / "node.pem",
        node_key=directory / "node-key.pem",
        peer_cert=directory / "peer.pem",
        peer_key=directory / "peer-key.pem",
    )
    existing = [p for p in files.paths() if p.exists()]
    if existing and not force:
        raise InputError(f"{existing[0]} exists; use --force to replace the lab certificates")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        ca = make_ca()
        write_pair(ca, files.ca_cert, files.ca_key)
        write_pair(make_node(ca, "MPPS Console", default_names()), files.node_cert, files.node_key)
        write_pair(make_node(ca, "DICOM peer", default_names()), files.peer_cert, files.peer_key)
    except OSError as exc:
        raise InputError(f"{directory}: cannot write certificates: {exc.strerror or exc}") from None
    return files
