#!/usr/bin/env python3
"""Make the sample results report in docs/: the demo meeting, voted on by 40 phones.

    scripts/report-sample              writes docs/report-sample.pdf and docs/report-sample.png
    scripts/report-sample --out DIR    somewhere else

Starts Covote on a free local port with a throw-away data directory, creates the "Riverside
community budget" demo meeting through the console, joins 40 phones (each declaring its
segments), votes one round, closes and reveals it, downloads /console/ID/report.pdf and renders
its first page to PNG with pypdfium2. Every outcome of the rule appears once at least, and one
affected group has fewer than m voters, so its line is shown without counts.
"""

from __future__ import annotations

import argparse
import re
import socket
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import pypdfium2 as pdfium
import uvicorn
from PIL import Image

from app.config import Settings
from app.main import create_app

KEY = "report-sample"
PNG_DPI = 120
PROPOSALS = (
    "mobile-library",
    "day-centre",
    "community-transport",
    "park-toilets",
    "youth-club",
    "respite-breaks",
    "cycle-path",
    "shopfront-grants",
)
W, D, N = "want", "dont_want", "neutral"
# (how many phones, their segments, their marks in PROPOSALS order); R = 2, m = 5.
PLAN = (
    (6, ("service-user",), (W, W, W, D, W, W, N, N)),
    (3, ("service-user", "south"), (W, W, W, D, W, W, N, N)),
    (5, ("carer",), (W, W, D, D, N, W, W, N)),
    (7, ("north", "resident"), (W, D, D, D, D, N, D, N)),
    (3, ("business",), (D, D, D, D, N, D, W, W)),
    (8, ("resident",), (D, D, W, D, D, D, W, N)),
    (5, ("resident", "south"), (W, D, D, W, N, W, W, D)),
    (3, ("staff",), (N, D, W, W, W, N, W, D)),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run(out: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(
            data_dir=Path(data),
            public_url=url,
            port=port,
            session_secret="report-sample",
            facilitator_key=KEY,
            # 40 sample phones join from one address (127.0.0.1) within seconds.
            limit_joins_per_address="1000/minute",
        )
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise SystemExit("report-sample: the server did not start")
            time.sleep(0.05)
        try:
            pdf = vote_and_fetch(url)
        finally:
            server.should_exit = True
            thread.join(10)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report-sample.pdf").write_bytes(pdf)
    document = pdfium.PdfDocument(pdf)
    page = document[0].render(scale=PNG_DPI / 72).to_pil()
    # A palette keeps the picture small in the repository and sharp enough to read.
    page.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(
        out / "report-sample.png", optimize=True
    )
    print(f"{out / 'report-sample.pdf'} ({len(document)} pages), {out / 'report-sample.png'}")


def csrf(client: httpx.Client, path: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def vote_and_fetch(url: str) -> bytes:
    with httpx.Client(base_url=url, timeout=30, follow_redirects=True) as f:
        f.get(f"/facilitator?key={KEY}")
        token = csrf(f, "/console")
        r = f.post("/console/demo", data={"csrf": token})
        r.raise_for_status()
        meeting_id = int(str(r.url).split("/")[4])
        page = f.get(f"/console/{meeting_id}").text
        code = re.search(r'class="code">([A-Z0-9]{6})<', page)
        assert code, "no join code on the console page"
        post = {"csrf": token, "proposal": list(PROPOSALS)}
        f.post(f"/console/{meeting_id}/rounds", data=post).raise_for_status()
        round_id = f.get(f"/api/m/{code.group(1)}").json()["round"]["id"]
        for count, segments, marks in PLAN:
            for _ in range(count):
                phone_vote(
                    url, code.group(1), round_id, segments, dict(zip(PROPOSALS, marks, strict=True))
                )
        for step in ("close", "reveal"):
            # Closing is irreversible: the console acts only on a confirmed request.
            r = f.post(
                f"/console/{meeting_id}/rounds/1/{step}", data={"csrf": token, "confirm": "yes"}
            )
            r.raise_for_status()
        r = f.get(f"/console/{meeting_id}/report.pdf")
        r.raise_for_status()
        return r.content


def phone_vote(
    url: str, code: str, round_id: int, segments: tuple[str, ...], marks: dict[str, str]
) -> None:
    with httpx.Client(base_url=url, timeout=30) as phone:
        token = csrf(phone, f"/m/{code}")
        headers = {"X-Covote-CSRF": token}
        phone.post(f"/api/m/{code}/join", headers=headers).raise_for_status()  # GETs never join
        r = phone.post(
            f"/api/m/{code}/segments", json={"segments": list(segments)}, headers=headers
        )
        r.raise_for_status()
        ballot = {"ballot_id": uuid.uuid4().hex, "round": round_id, "marks": marks}
        phone.post(f"/api/m/{code}/ballot", json=ballot, headers=headers).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = Path(__file__).resolve().parents[1] / "docs"
    parser.add_argument("--out", type=Path, default=default, help="where to write (docs/)")
    run(parser.parse_args().out)


if __name__ == "__main__":
    main()
