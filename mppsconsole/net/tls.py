"""DICOM TLS (PS3.15 Annex B, BCP 195 profile): the SSL contexts and the TLS listener.

Policy, in one place:

* TLS 1.2 minimum (BCP 195 forbids SSL 3.0, TLS 1.0 and 1.1); TLS 1.3 when both ends
  have it.
* TLS 1.2 cipher suites: ECDHE key exchange with AES-GCM (or ChaCha20-Poly1305),
  the forward-secret AEAD suites of BCP 195 / RFC 9325 that DCMTK's "BCP195" profile
  also offers; TLS 1.3's suites are all AEAD already. No TLS compression (CRIME).
* Server certificates are verified against ``[tls] ca`` (or the system's trust
  store without it), and must name the host we connect to, as in HTTPS: a lab CA from
  ``mppsconsole tls init`` names localhost, 127.0.0.1 and the machine's name.
  DICOM nodes are often addressed by IP with certificates that do not list it;
  ``check_hostname = false`` then keeps chain verification and drops the name check.
* Client certificates are asked for when a CA is configured, and required with
  ``require_client_cert`` (mutual authentication).
* The handshake of an accepted connection runs on that connection's own thread,
  bounded by :data:`HANDSHAKE_TIMEOUT`: pynetdicom does it in the accept loop, where a
  silent or plain-TCP client would stall every other peer, and a failure vanishes
  without a word. Here it is logged and reported with the peer address and reason.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pynetdicom.transport import ThreadedAssociationServer

from mppsconsole.core.errors import ConfigError
from mppsconsole.core.settings import Node, TlsSettings

log = logging.getLogger(__name__)

#: TLS 1.2 cipher suites (OpenSSL names): ECDHE + AEAD only, as BCP 195 recommends.
BCP195_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"
#: A client gets this long to finish the handshake after connecting.
HANDSHAKE_TIMEOUT = 10.0


def _base_context(purpose: ssl.Purpose, files: TlsSettings) -> ssl.SSLContext:
    context = ssl.SSLContext(
        ssl.PROTOCOL_TLS_SERVER if purpose is ssl.Purpose.CLIENT_AUTH else ssl.PROTOCOL_TLS_CLIENT
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(BCP195_CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION
    if files.cert:
        _load_chain(context, files)
    if files.ca:
        _readable(files.ca, "CA certificate")
        try:
            context.load_verify_locations(cafile=files.ca)
        except ssl.SSLError as exc:
            raise ConfigError(f"{files.ca}: not a PEM CA certificate ({exc.reason})") from None
    return context


def _readable(path: str, what: str) -> None:
    try:
        Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None


def _load_chain(context: ssl.SSLContext, files: TlsSettings) -> None:
    _readable(files.cert, "certificate")
    _readable(files.key, "private key")
    try:
        context.load_cert_chain(files.cert, files.key)
    except ssl.SSLError as exc:
        reason = str(exc.reason or exc)
        if "KEY_VALUES_MISMATCH" in reason.upper():
            raise ConfigError(
                f"{files.key}: the private key does not match the certificate {files.cert}"
            ) from None
        if "PEM" in reason.upper() or "NO_START_LINE" in reason.upper():
            raise ConfigError(
                f"{files.cert} / {files.key}: not a PEM certificate and key ({reason})"
            ) from None
        raise ConfigError(f"{files.cert} / {files.key}: unusable ({reason})") from None


def server_context(files: TlsSettings) -> ssl.SSLContext:
    """The SCP's context; ConfigError (at start, not at the first peer) when unusable."""
    if not files.serves:
        raise ConfigError("TLS needs [tls] cert and key for the SCP")
    context = _base_context(ssl.Purpose.CLIENT_AUTH, files)
    if files.require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
    elif files.ca:
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def client_context(files: TlsSettings) -> ssl.SSLContext:
    """The SCU's context: our certificate (when configured) and the CA servers must chain to."""
    context = _base_context(ssl.Purpose.SERVER_AUTH, files)
    if not files.ca:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    context.check_hostname = files.check_hostname
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_args(node: Node) -> tuple[ssl.SSLContext, str] | None:
    """pynetdicom's ``tls_args`` for ``node``: None only for a plain node, never a fallback.

    A bad certificate file is a ConfigError here, before any connection is made.
    """
    if not node.tls:
        return None
    return client_context(node.tls_files or TlsSettings()), node.host


def check_files(files: TlsSettings) -> None:
    """Fail at start with a ConfigError when a certificate, key or CA cannot be used."""
    if files.serves:
        server_context(files)
    else:
        client_context(files)


# --- what went wrong, in words ------------------------------------------------------------

#: OpenSSL reason fragments (lower case) -> what the user needs to hear.
_REASONS = (
    ("certificate has expired", "certificate verify failed: certificate has expired"),
    ("certificate is not yet valid", "certificate verify failed: certificate is not yet valid"),
    ("self-signed certificate", "certificate verify failed: unknown CA (self-signed certificate)"),
    ("unable to get local issuer", "certificate verify failed: unknown CA"),
    ("hostname mismatch", "certificate verify failed: the certificate does not name this host"),
    ("ip address mismatch", "certificate verify failed: the certificate does not name this host"),
    ("alert unknown ca", "the peer does not trust our certificate (unknown CA)"),
    ("alert certificate expired", "the peer refused our certificate: certificate has expired"),
    ("alert bad certificate", "the peer refused our certificate"),
    ("alert certificate unknown", "the peer refused our certificate"),
    ("certificate required", "the server requires a client certificate"),
    ("peer did not return a certificate", "the client sent no certificate (one is required)"),
    ("alert handshake failure", "TLS handshake failure (no common protocol or cipher)"),
    ("alert protocol version", "the peer does not accept TLS 1.2 or later"),
    ("unsupported protocol", "the peer does not accept TLS 1.2 or later"),
    ("wrong version number", "the peer does not speak TLS (a plain DICOM port?)"),
    ("http request", "the peer does not speak TLS"),
    ("record layer failure", "the peer does not speak TLS (a plain DICOM port?)"),
    ("packet length too long", "the peer does not speak TLS (a plain DICOM port?)"),
    ("eof occurred in violation", "the peer closed the connection during the TLS handshake"),
    ("unexpected eof", "the peer closed the connection during the TLS handshake"),
    ("timed out", f"no TLS handshake within {HANDSHAKE_TIMEOUT:g} s"),
    ("connection reset", "the peer reset the connection during the TLS handshake"),
)


def describe(error: BaseException | str) -> str:
    """One phrase for a TLS failure: 'certificate verify failed: certificate has expired'."""
    text = str(error)
    lowered = text.lower()
    for fragment, phrase in _REASONS:
        if fragment in lowered:
            return phrase
    if isinstance(error, ssl.SSLError) and error.reason:
        return f"TLS error: {error.reason.lower().replace('_', ' ')}"
    return f"TLS error: {text}"


def is_tls_failure(text: str) -> bool:
    """Did a connection fail in TLS (rather than TCP: refused, unreachable)?

    Python's ssl errors name OpenSSL ("[SSL: ...]") or its source file ("_ssl.c").
    """
    return "ssl" in text.lower()


def session_summary(sock: object) -> str:
    """How an accepted association is secured, for the traffic log; '' when it is plain."""
    if not isinstance(sock, ssl.SSLSocket):
        return ""
    cipher = sock.cipher()
    text = f"{sock.version()} {cipher[0] if cipher else ''}".strip()
    cert = sock.getpeercert()
    subject: Any = cert.get("subject", ()) if cert else ()
    common_names = [value for rdn in subject for key, value in rdn if key == "commonName"]
    if common_names:
        text += f", client certificate {common_names[0]!r}"
    return text


# --- the listener ---------------------------------------------------------------------------

#: Called with (peer "host:port", reason) when a client fails the handshake.
HandshakeFailed = Callable[[str, str], None]


class TlsAssociationServer(ThreadedAssociationServer):
    """pynetdicom's threaded server with the handshake moved onto the connection's thread."""

    #: Set by :func:`start_tls_server` (``make_server`` takes no extra arguments).
    on_handshake_failed: HandshakeFailed | None = None

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        # Accept only; pynetdicom would wrap (and handshake) here, in the accept loop.
        assert self.socket is not None
        raw, address = self.socket.accept()
        return raw, address

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        peer = f"{client_address[0]}:{client_address[1]}"
        try:
            assert self.ssl_context is not None
            request.settimeout(HANDSHAKE_TIMEOUT)
            wrapped = self.ssl_context.wrap_socket(request, server_side=True)
            wrapped.settimeout(None)
        except (OSError, ValueError) as exc:
            reason = describe(exc)
            log.warning("TLS handshake with %s failed: %s (%s)", peer, reason, exc)
            self.shutdown_request(request)
            if self.on_handshake_failed is not None:
                self.on_handshake_failed(peer, reason)
            return
        super().process_request_thread(wrapped, client_address)


def start_tls_server(
    ae: Any,
    address: tuple[str, int],
    context: ssl.SSLContext,
    evt_handlers: list[Any],
    on_handshake_failed: HandshakeFailed,
) -> TlsAssociationServer:
    """``ae.start_server(block=False)`` with :class:`TlsAssociationServer`."""
    server: TlsAssociationServer = ae.make_server(
        address,
        ssl_context=context,
        evt_handlers=evt_handlers,
        server_class=TlsAssociationServer,
    )
    server.on_handshake_failed = on_handshake_failed
    thread = threading.Thread(
        target=server.serve_forever, name=f"TlsAcceptor@{server.server_address[1]}", daemon=True
    )
    thread.start()
    ae._servers.append(server)  # so that ae.shutdown() stops it too, as start_server's would
    return server
