"""`covote serve` and `covote demo`: the server's options, its settings, and running it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from app.config import Settings


def server_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None, help="interface to listen on (default 0.0.0.0: all)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000)")
    p.add_argument("--data", type=Path, default=None, help="data directory (default ./data)")
    p.add_argument("--public-url", default=None, help="URL phones open (default: LAN address)")
    p.add_argument(
        "--database-url", default=None, help="e.g. postgresql://host/db (default SQLite)"
    )
    p.add_argument("--broadcast-url", default=None, help="redis://host for several processes")
    p.add_argument(
        "--keypads",
        action="append",
        default=None,
        metavar="URL",
        help="keypad receiver to supervise, e.g. serial:///dev/ttyACM0 (repeatable)",
    )
    p.add_argument(
        "--tls",
        action="store_true",
        default=None,
        help="HTTPS with a self-signed certificate for this network, kept in the data directory",
    )
    p.add_argument("--tls-cert", type=Path, default=None, help="your own certificate (PEM)")
    p.add_argument("--tls-key", type=Path, default=None, help="its private key (PEM)")
    p.add_argument(
        "--forwarded-allow-ips",
        default=None,
        metavar="IPS",
        help="behind a reverse proxy: its addresses, trusted for X-Forwarded-For/-Proto",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    overrides = {
        "host": args.host,
        "port": args.port,
        "data_dir": args.data,
        "public_url": args.public_url,
        "database_url": args.database_url,
        "broadcast_url": args.broadcast_url,
        "keypad_urls": args.keypads,
        "tls": args.tls,
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
        "forwarded_allow_ips": args.forwarded_allow_ips,
    }
    return Settings(**{k: v for k, v in overrides.items() if v is not None}).with_secrets()


def serve(settings: Settings, *, with_demo: bool = False) -> int:
    import uvicorn

    from app.console import demo_charter, demo_lab, demo_survey
    from app.core import datadir
    from app.demo import samples
    from app.main import create_app
    from app.voting.db import make_engine, transaction, upgrade
    from app.voting.meetings import create_meeting, list_meetings
    from app.web import netinfo, tls

    os.umask(datadir.PRIVATE_UMASK)  # everything this server writes is for its user only
    datadir.secure(settings.data_dir, settings.resolved_database_url())
    try:
        certificate = tls.resolve(settings)
    except tls.TlsError as e:
        print(f"covote serve: {e}", file=sys.stderr)
        return 2
    scheme = "https" if certificate else "http"
    base = (settings.public_url or netinfo.lan_base_url(settings.port, scheme)).rstrip("/")
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine, backup_dir=settings.data_dir / "backups")
    with transaction(engine) as session:
        demos = []
        for demo in samples() if with_demo else []:
            existing = [m for m in list_meetings(session) if m.title == demo.title]
            demos.append(existing[0] if existing else create_meeting(session, demo))
        surveyed = [m for m in list_meetings(session) if m.title == demo_survey.TITLE]
        chartered = [m for m in list_meetings(session) if m.title == demo_charter.TITLE]
    if with_demo:
        # The survey meeting, with made-up answers already in (through the ballot path), going
        # on into a Co-Production Lab with made-up ideas and ratings (app/console/demo_lab.py).
        labbed = surveyed[0] if surveyed else demo_lab.seed(engine, demo_survey.seed(engine))
        demos.append(labbed)
        # The charter meeting: its budget voted, the charter drafted from that and the Lab's
        # pledges, agreed clause by clause and signed (app/console/demo_charter.py).
        demos.append(chartered[0] if chartered else demo_charter.seed(engine, labbed))
    with transaction(engine) as session:
        known = list_meetings(session)
    engine.dispose()

    local = f"{scheme}://127.0.0.1:{settings.port}"
    print("Covote is starting.")
    print(f"  Facilitator (keep it private): {local}/facilitator?key={settings.facilitator_key}")
    print(f"  Attendees join at:             {base}/  (then type the meeting code)")
    for m in known[:5]:
        print(f"  “{m.title}”  code {m.code}")
        print(f"      phones {base}/m/{m.code}   projector {local}/p/{m.code}")
    for m in demos:
        print(f"  Demo meeting code: {m.code}  ({m.title})")
    if base.startswith("http://127.") and not settings.public_url:
        print("  Warning: no network found; phones cannot reach this laptop until it joins one.")
    if certificate is not None:
        made = " (made now)" if certificate.made else ""
        print(f"  TLS certificate{made}: {certificate.cert}")
        print(f"  Certificate SHA-256 fingerprint: {certificate.fingerprint}")
        print("  Browsers warn once about it: accept it only if they show this fingerprint.")
    print(f"  Data: {settings.resolved_database_url()}")

    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        ws_per_message_deflate=False,  # ~200-byte frames: deflate costs 2-7x memory per phone
        ws_max_size=settings.ws_max_message_bytes,
        http="httptools",
        loop="uvloop",
        timeout_graceful_shutdown=5,
        log_level="warning",
        ssl_certfile=str(certificate.cert) if certificate else None,
        ssl_keyfile=str(certificate.key) if certificate else None,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    uvicorn.Server(config).run()
    return 0
