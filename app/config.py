"""The one settings object.

Every tunable lives here, read once from `COVOTE_*` environment variables or passed explicitly
(tests build `Settings(...)` per app). Nothing reads the environment anywhere else.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRETS_FILE = "covote-secrets.json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COVOTE_", extra="ignore")

    data_dir: Path = Path("data")
    # None = SQLite file `covote.db` in data_dir. PostgreSQL: postgresql+psycopg://host/db
    database_url: str | None = None
    # Signals between server processes (redis://host:port/db); None = one process.
    broadcast_url: str | None = None
    # With a broadcast URL, re-read every live meeting this often even without a signal, so a
    # signal lost in a Redis outage leaves a projector stale for at most this long.
    resync_s: float = Field(default=3.0, gt=0)
    # What phones are told to open; None = http://<LAN address>:<port>
    public_url: str | None = None
    # Keypad receivers to supervise from the start (more can be added in the console), e.g.
    # ["serial:///dev/ttyACM0", "sim://?keypads=30"]. See hardware/urls.py.
    keypad_urls: list[str] = Field(default_factory=list)
    # Receivers added in the console: capture files (replay://) are read only from data_dir and
    # these directories, device receivers only from device nodes matching these patterns
    # (/dev/pts/* is the pseudo-terminal `covote keypads simulate` prints for a rehearsal).
    receiver_file_dirs: list[Path] = Field(default_factory=list)
    receiver_device_patterns: list[str] = Field(
        default_factory=lambda: [
            "/dev/tty*",
            "/dev/cu.*",
            "/dev/hidraw*",
            "/dev/input/*",
            "/dev/pts/*",
            "COM*",
        ]
    )
    # A capture is read whole when its receiver is added, off the event loop; a real one is a
    # few MB at most (hardware/capture.py), and reading it takes well under a second.
    capture_max_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    capture_read_timeout_s: float = Field(default=10.0, gt=0)
    host: str = "0.0.0.0"
    port: int = 8000

    # Signing key for session cookies and the facilitator's key. None = generated once and kept
    # in data_dir/covote-secrets.json, so a restart keeps every voter and the facilitator signed in.
    session_secret: str | None = None
    facilitator_key: str | None = None
    # A voter's cookie must outlive a long evening meeting and a phone left in a pocket overnight,
    # and a survey online for up to 90 days (app/rules/online.py MAX_DAYS) with a margin: a
    # respondent who comes back weeks later on the same browser continues their response. The
    # cookie is sent again only when the session changes (joining), so this counts from then.
    session_max_age_s: int = 92 * 24 * 3600
    # The facilitator's power is a server-side session (app/web/facilitators.py), much shorter than
    # a voter's cookie: a console left alone for 12 hours (overnight) signs out, and any
    # session ends a day after signing in (a meeting day), so a copied cookie soon goes stale.
    facilitator_idle_s: int = Field(default=12 * 3600, gt=0)
    facilitator_max_s: int = Field(default=24 * 3600, gt=0)

    # 10 Hz: a projector update at most 100 ms after a ballot, and fan-out cost independent of
    # the ballot rate (../shared/realtime.md B.3).
    tick_hz: float = Field(default=10.0, gt=0, le=100)
    # While ballots arrive, screens (not phones) get the new turnout alone this often, read
    # on its own (far cheaper than a whole snapshot): a ballot is on the projector within
    # ~1/50 s even in a busy room (issue 14). Whole snapshots stay at tick_hz.
    turnout_hz: float = Field(default=50.0, gt=0, le=100)
    # A phone that cannot take a ~1 KiB frame in 5 s is gone; free its slot, it will resync.
    ws_send_timeout_s: float = Field(default=5.0, gt=0)
    # The largest client message is a ballot: 200 proposals x ~40 bytes fits in 16 KiB.
    ws_max_message_bytes: int = 16 * 1024
    # Personal frames (acks, errors) queued for one connection before it counts as too slow.
    ws_direct_backlog: int = 64
    # Meeting imports are the largest legitimate bodies (hundreds of proposals).
    max_body_bytes: int = 2 * 1024 * 1024
    # Up to this many casts share one transaction (group commit).
    commit_batch_max: int = 500
    # A batch of 500 commits in ~50 ms and SQLite waits up to 10 s for its write lock (db.py):
    # a batch still storing after this long is wedged; it is logged and the writer restarted.
    ballot_stall_s: float = Field(default=30.0, gt=0)

    # FastAPI's interactive API docs (/api/docs) load Swagger UI from a CDN: off by default, so
    # no page of Covote ever reaches the internet.
    api_docs: bool = False
    # HTTPS: `covote serve --tls` (a certificate made for the venue network, kept in data_dir)
    # or your own files. Cookies are marked Secure whenever the server is reached over HTTPS.
    tls: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Behind a reverse proxy: the proxies' addresses trusted for X-Forwarded-For/-Proto
    # (uvicorn's --forwarded-allow-ips), e.g. "127.0.0.1" or "*".
    forwarded_allow_ips: str | None = None
    # Extra origins (scheme://host[:port]) whose pages may open the meeting WebSocket, besides
    # the page's own host and public_url.
    extra_origins: list[str] = Field(default_factory=list)

    def uses_tls(self) -> bool:
        return self.tls or (self.tls_cert is not None and self.tls_key is not None)

    def secure_cookies(self) -> bool:
        """Mark cookies Secure: served over HTTPS here, or behind an HTTPS public URL."""
        return self.uses_tls() or (self.public_url or "").lower().startswith("https://")

    def allowed_origins(self) -> frozenset[str]:
        """Origins allowed to open the meeting WebSocket besides the page's own host."""
        found = {o.rstrip("/").lower() for o in self.extra_origins}
        if self.public_url:
            parts = self.public_url.split("/")
            if len(parts) >= 3:
                found.add("/".join(parts[:3]).lower())
        return frozenset(found)

    # --- bounded work per voter, per address, per meeting (app/web/ratelimit.py) ---------------
    # Each is a `limits` rate string ("N/period", several joined by ";": all must hold). They
    # are shared by every process through Redis when broadcast_url is set. Keypads and paper
    # are server-side channels and never limited. Raise the per-address ones when all phones
    # reach the server through one address (a NAT, or a proxy uvicorn does not trust).
    # Phones save the whole ballot on every change of a mark: a real attendee re-votes a few
    # times a minute, a 30-proposal ballot changed mark by mark is ~30 saves in a minute; one
    # phone that sent 500 versions in 1.7 s gets 30, then waits.
    limit_casts_per_voter: str = "30/minute;300/hour"
    # New voters per address: a household on one Wi-Fi joins a handful; a script joining
    # ~100 voters/s from one address gets 20 a minute.
    limit_joins_per_address: str = "20/minute;200/hour"
    # New voters per meeting, from all addresses together: a hall of 500 scanning the QR code
    # at once joins within a couple of minutes; more than that is a flood, not a hall.
    limit_joins_per_meeting: str = "600/minute"
    # Wrong or unusable ticket codes per address. Each tier is a longer lockout: 10 typos are
    # allowed a minute, then the address waits up to a minute, after 30 up to an hour, after
    # 60 up to a day (250-500 guesses/s became at most 60 a day; 25^8 codes).
    limit_ticket_failures_per_address: str = "10/minute;30/hour;60/day"
    # Other requests a script could repeat, per address (/api state reads and segments, the
    # no-JS segments form, /join lookups, WebSocket handshakes and hellos): a phone page makes a
    # few a minute (more while its socket keeps dropping); a script repeating them gets 300.
    limit_api_per_address: str = "300/minute"
    # Offers of help (the people list's form, /m/CODE/helping) per address: a household leaves a
    # few; a script filling the list with junk gets 10 a minute (and each meeting's list is
    # bounded: app/rules/people.py MAX_CONTACTS).
    limit_offers_per_address: str = "10/minute;60/hour"
    # Lab ideas (/m/CODE/lab) per voter: a table's scribe sends one every minute or so; a phone
    # flooding the moderation queue is stopped at 5 a minute (and MAX_IDEAS_PER_VOTER in all).
    limit_ideas_per_voter: str = "5/minute;20/hour"
    # Charter amendments (/m/CODE/amend) per voter: a thought-through rewording takes minutes
    # to type; a phone flooding the moderator is stopped at 3 a minute (and
    # charter_amend.MAX_PER_VOTER in all).
    limit_amendments_per_voter: str = "3/minute;10/hour"
    # Console alert ("present" jumped): more new phone voters within a minute than both this
    # many and this share of the voters present before that minute (app/live/surge.py).
    surge_min_joins: int = Field(default=50, ge=1)
    surge_share: float = Field(default=0.5, gt=0)

    # The people list (app/voting/people.py): how many days a person's contact details are kept
    # when the meeting sets no number of its own; then they are deleted. A year covers the
    # follow-up of a survey; at most ten years.
    people_retention_days: int = Field(default=365, ge=1, le=3650)

    @field_validator(
        "limit_casts_per_voter",
        "limit_joins_per_address",
        "limit_joins_per_meeting",
        "limit_ticket_failures_per_address",
        "limit_api_per_address",
        "limit_offers_per_address",
        "limit_ideas_per_voter",
        "limit_amendments_per_voter",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        """A rate string the limiter can read, e.g. "30/minute;300/hour"."""
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError as e:
            raise ValueError(f"{value!r} is not a rate like 30/minute;300/hour") from e
        return value

    def sqlite_path(self) -> Path:
        return self.data_dir / "covote.db"

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path()}"

    def with_secrets(self) -> Settings:
        """Fill the session secret and facilitator key from data_dir, creating them once."""
        if self.session_secret and self.facilitator_key:
            return self
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.data_dir / SECRETS_FILE
        stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
        if not stored:
            stored = {
                "session_secret": secrets.token_urlsafe(32),
                "facilitator_key": secrets.token_urlsafe(18),
            }
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(stored, f)
        return self.model_copy(
            update={
                "session_secret": self.session_secret or stored["session_secret"],
                "facilitator_key": self.facilitator_key or stored["facilitator_key"],
            }
        )
