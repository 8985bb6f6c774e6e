"""HTTPS for the venue network: `covote serve --tls`.

A venue has no domain name and no internet, so no public certificate authority can vouch for
the laptop. `--tls` makes a self-signed certificate once (an ECDSA P-256 key, one year),
covering the laptop's LAN address, its host name, `<host>.local`, `localhost` and loopback, and
keeps it in `data_dir/tls/` (0600). It is reused while it still covers the current addresses
and has more than 30 days left; otherwise a new one is made. `covote serve` prints its SHA-256
fingerprint beside the links: a browser warns once about a self-signed certificate, and the
facilitator checks that the fingerprint the browser shows is the printed one before trusting it.
With `--tls-cert/--tls-key` your own certificate is used as it is.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.config import Settings
from app.core import datadir
from app.web import netinfo

TLS_DIR = "tls"
VALID_FOR = timedelta(days=365)
RENEW_BEFORE = timedelta(days=30)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class TlsFiles:
    cert: Path
    key: Path
    fingerprint: str  # SHA-256 of the certificate, "AB:CD:..."
    made: bool  # True if made just now


def venue_names() -> tuple[list[str], list[IPAddress]]:
    """The names and addresses phones may use to reach this laptop."""
    host = socket.gethostname().strip().lower() or "localhost"
    names = sorted({host, f"{host.split('.')[0]}.local", "localhost"})
    ips = {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    ips.add(ipaddress.ip_address(netinfo.lan_address()))
    return names, sorted(ips, key=lambda a: (a.version, int(a)))


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def _covers(cert: x509.Certificate, names: list[str], ips: list[IPAddress]) -> bool:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have_names = {n.lower() for n in san.get_values_for_type(x509.DNSName)}
    have_ips = set(san.get_values_for_type(x509.IPAddress))
    fresh = cert.not_valid_after_utc - datetime.now(UTC) > RENEW_BEFORE
    return fresh and set(names) <= have_names and set(ips) <= have_ips


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    tmp.replace(path)


def make_certificate(names: list[str], ips: list[IPAddress]) -> tuple[bytes, bytes]:
    """A self-signed server certificate for `names` and `ips`: (certificate PEM, key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Covote on {names[0]}"[:64])])
    now = datetime.now(UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alt_names += [x509.IPAddress(a) for a in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def venue_certificate(
    data_dir: Path, names: list[str] | None = None, ips: list[IPAddress] | None = None
) -> TlsFiles:
    """The data directory's certificate for this network, made (again) if needed."""
    if names is None or ips is None:
        names, ips = venue_names()
    folder = data_dir / TLS_DIR
    datadir.make_private_dir(folder)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    if cert_path.exists() and key_path.exists():
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        except ValueError:
            cert = None
        if cert is not None and _covers(cert, names, ips):
            return TlsFiles(cert_path, key_path, fingerprint(cert), made=False)
    cert_pem, key_pem = make_certificate(names, ips)
    _write_private(key_path, key_pem)
    _write_private(cert_path, cert_pem)
    cert = x509.load_pem_x509_certificate(cert_pem)
    return TlsFiles(cert_path, key_path, fingerprint(cert), made=True)


class TlsError(Exception):
    """The given certificate or key cannot be used (the message says why)."""


def resolve(settings: Settings) -> TlsFiles | None:
    """The certificate `covote serve` should use, or None for plain HTTP."""
    if settings.tls_cert is not None and settings.tls_key is not None:
        try:
            cert = x509.load_pem_x509_certificate(settings.tls_cert.read_bytes())
        except (OSError, ValueError) as e:
            raise TlsError(f"{settings.tls_cert}: not a readable PEM certificate ({e})") from None
        if not settings.tls_key.is_file():
            raise TlsError(f"{settings.tls_key}: no such key file")
        return TlsFiles(settings.tls_cert, settings.tls_key, fingerprint(cert), made=False)
    if settings.tls:
        return venue_certificate(settings.data_dir)
    return None
