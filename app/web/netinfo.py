"""Addresses: the laptop's on the local network (which phones must use to reach it), a
peer's as uvicorn reports it, and the channel a joining browser is counted under."""

from __future__ import annotations

import ipaddress
import socket

from starlette.requests import HTTPConnection


def lan_address() -> str:
    """The address of the interface that routes outward, else loopback.

    Connecting a UDP socket sends no packet; it only asks the OS which source address it would
    use. 10.255.255.255 needs no internet: any configured LAN route answers.
    """
    for probe in ("10.255.255.255", "192.168.255.255", "8.8.8.8"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((probe, 1))
                addr: str = s.getsockname()[0]
                if not addr.startswith("127."):
                    return addr
        except OSError:
            continue
    return "127.0.0.1"


def lan_base_url(port: int, scheme: str = "http") -> str:
    return f"{scheme}://{lan_address()}:{port}"


def channel_of(client_host: str | None) -> str:
    """ "phone" for a device on the room's network (any non-global address: the venue Wi-Fi,
    the laptop's hotspot, loopback), "remote" for one reaching the server over the internet.

    Behind a reverse proxy the server sees the proxy's address unless uvicorn trusts it
    (`--forwarded-allow-ips`); then it sees the client's from X-Forwarded-For.
    """
    if not client_host:
        return "phone"
    try:
        return "remote" if ipaddress.ip_address(client_host).is_global else "phone"
    except ValueError:  # a unix socket path or a test client's name
        return "phone"


def client_address(conn: HTTPConnection) -> str:
    """The peer's address as uvicorn reports it (it alone decides whether to trust
    X-Forwarded-For: `--forwarded-allow-ips`); never parsed from headers here."""
    return conn.client.host if conn.client else "unknown"
