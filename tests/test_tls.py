"""`covote serve --tls`: HTTPS on the venue network with a certificate kept in the data
directory, its fingerprint printed for the facilitator; Secure cookies."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from app.web import tls
from tests.conftest import FACILITATOR_KEY, TIME_FACTOR
from tests.processes import free_port


def _serve(data: Path, port: int, *args: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Start `covote serve` and collect what it prints until the data line."""
    cmd = [sys.executable, "-u", "-m", "app.cli", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--data", str(data), *args]
    env = dict(os.environ, COVOTE_FACILITATOR_KEY=FACILITATOR_KEY)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        with contextlib.suppress(ValueError, OSError):  # closed by _stop
            for line in proc.stdout:
                lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 20 * TIME_FACTOR
    while not any("Data:" in line for line in lines):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise AssertionError(f"covote serve did not start: {lines}")
        time.sleep(0.05)
    return proc, lines


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(10)
    if proc.stdout is not None:
        proc.stdout.close()


def _peer_fingerprint(port: int) -> str:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + 20 * TIME_FACTOR
    while True:
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
                ctx.wrap_socket(raw, server_hostname="127.0.0.1") as conn,
            ):
                der = conn.getpeercert(binary_form=True)
                assert der is not None
                return hashlib.sha256(der).hexdigest()
        except (ConnectionRefusedError, ssl.SSLError):
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_serve_with_tls_answers_over_https_with_the_printed_fingerprint(tmp_path: Path) -> None:
    """The printed fingerprint is the served certificate's; the certificate verifies for the
    loopback address; the session cookie is Secure; a restart reuses the same certificate."""
    data, port = tmp_path / "data", free_port()
    proc, lines = _serve(data, port, "--tls")
    try:
        printed = next(line for line in lines if "SHA-256 fingerprint" in line)
        fp = printed.split(":", 1)[1].strip()
        assert _peer_fingerprint(port) == fp.replace(":", "").lower()
        assert any(f"https://127.0.0.1:{port}/facilitator?key=" in line for line in lines)
        cert = data / "tls" / "cert.pem"
        for path in (cert, data / "tls" / "key.pem"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        trust = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=trust) as client:
            r = client.get(f"/facilitator?key={FACILITATOR_KEY}")
            cookie = r.headers["set-cookie"].lower()
            assert "covote=" in cookie and "; secure" in cookie
            assert client.get("/console").status_code == 200
    finally:
        _stop(proc)
    proc, again = _serve(data, port, "--tls")
    try:
        assert printed.replace(" (made now)", "") in [x.replace(" (made now)", "") for x in again]
        assert not any("made now" in line for line in again)
    finally:
        _stop(proc)


def test_a_certificate_is_made_again_when_the_network_changes(tmp_path: Path) -> None:
    """At another venue (a new LAN address) the certificate no longer covers the laptop: a new
    one is made; on the same network it is reused."""
    import ipaddress

    names = ["laptop", "laptop.local", "localhost"]
    first = tls.venue_certificate(tmp_path, names, [ipaddress.ip_address("192.168.1.20")])
    same = tls.venue_certificate(tmp_path, names, [ipaddress.ip_address("192.168.1.20")])
    moved = tls.venue_certificate(tmp_path, names, [ipaddress.ip_address("10.0.0.7")])
    assert first.made and not same.made and moved.made
    assert first.fingerprint == same.fingerprint != moved.fingerprint


def test_own_certificate_files_must_come_together(tmp_path: Path) -> None:
    """--tls-cert without --tls-key is a usage error (exit 2), and a bad file is named."""
    from app.cli import main

    try:
        main(["serve", "--data", str(tmp_path), "--tls-cert", str(tmp_path / "c.pem")])
    except SystemExit as e:
        assert e.code == 2
    else:
        raise AssertionError("accepted --tls-cert alone")
    (tmp_path / "c.pem").write_text("not a certificate")
    (tmp_path / "k.pem").write_text("x")
    args = ["--tls-cert", str(tmp_path / "c.pem"), "--tls-key", str(tmp_path / "k.pem")]
    assert main(["serve", "--data", str(tmp_path), "--port", str(free_port()), *args]) == 2


def test_forwarded_allow_ips_reaches_uvicorn(tmp_path: Path, monkeypatch: Any) -> None:
    """`--forwarded-allow-ips` is passed to uvicorn's proxy-headers handling (the README's
    promise for servers behind a reverse proxy)."""
    import uvicorn

    from app.cli import main

    seen: list[uvicorn.Config] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, *a, **k: seen.append(self.config))
    args = ["serve", "--data", str(tmp_path), "--port", str(free_port())]
    assert main([*args, "--forwarded-allow-ips", "10.0.0.1,10.0.0.2"]) == 0
    assert seen[0].proxy_headers is True
    assert seen[0].forwarded_allow_ips == "10.0.0.1,10.0.0.2"
    assert seen[0].ssl_certfile is None
