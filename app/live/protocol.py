"""The WebSocket protocol, sans I/O: parse client frames into typed messages, encode replies.

Client -> server (JSON text frames):
    {"type": "hello", "last_seq": int | null}     0 <= last_seq < 2**53 (bounds.Seq)
    {"type": "cast", "ballot_id": str, "round": int, "marks": {item id: answer}}
        ballot_id: 8-64 letters, digits, '-' or '_' (bounds.CLIENT_BALLOT_ID); round: a round's
        id, 1 <= round < 2**31 (bounds.DbId); marks: at most 500, ids of at most 64 characters,
        answers strings of at most scales.MAX_RAW_CHARS (a room vote's: "want", "dont_want"
        or "neutral"). Which answers an item takes is its scale's to say: the ballot path
        checks them against the round's activity kind (ballots.validate_batch), not the parser.
    {"type": "ping"}
Server -> client:
    {"type": "snapshot", "seq": int, ...}   full live state of the meeting (`SnapshotFrame`:
                                            shapes.Snapshot, from Services.room_state)
        A phone's connection (`?view=phone`) gets `"ballot_html": str` in it too: the phone
        page's open-round bar and ballot section for this state, in the page's language
        (`?lang=`), with nothing of the voter's own (app/live/hub.py).
    {"type": "turnout", "seq": int, "turnout": {...}}   only the turnout changed since the last
                                            snapshot (to projectors and consoles, not phones)
    {"type": "you", "voter": str | null, "segments": [...], "ballot": {...} | null}  after hello
        (`YouFrame`; `voter`: this browser's handle, "me-..."; never a pseudonym, README
        Anonymity)
    {"type": "ack", "ballot_id": str, "round": int}        the ballot is stored
    {"type": "error", "code": str, "message": str, "ballot_id": str | null}
    {"type": "pong"}
Snapshots are complete: a client that missed some simply takes the newest (higher seq).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from app.core.bounds import CLIENT_BALLOT_ID, DbId, Seq
from app.core.errors import BadInput
from app.core.shapes import LiveTurnout, Snapshot, YouView
from app.rules.scales import MAX_RAW_CHARS

MAX_MARKS = 500  # items in one ballot: far more than any activity asks about at once
ItemKey = Annotated[str, Field(max_length=64)]  # an item's id (inputs: ids are at most 64)
Answer = Annotated[str, Field(max_length=MAX_RAW_CHARS)]  # checked by its scale later


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Hello(_Msg):
    type: Literal["hello"]
    last_seq: Seq | None = None


class BallotBody(_Msg):
    """A voter's whole ballot for a round; the HTTP API takes the same body."""

    ballot_id: str = Field(min_length=8, max_length=64, pattern=CLIENT_BALLOT_ID)
    round: DbId
    marks: dict[ItemKey, Answer] = Field(max_length=MAX_MARKS)


class Cast(BallotBody):
    type: Literal["cast"]


class Ping(_Msg):
    type: Literal["ping"]


ClientMessage = Annotated[Hello | Cast | Ping, Field(discriminator="type")]
_client = TypeAdapter(ClientMessage)


def parse_client(raw: str | bytes) -> Hello | Cast | Ping:
    """Raise BadInput with a readable reason for anything that is not a valid message."""
    try:
        return _client.validate_json(raw)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise BadInput(f"Bad message: {where}: {err['msg']}" if where else "Bad message") from None


_marks = TypeAdapter(Annotated[dict[ItemKey, Answer], Field(max_length=MAX_MARKS)])


def form_marks(fields: Iterable[tuple[str, object]]) -> dict[str, str]:
    """The answers of a posted form (the no-JavaScript ballot, the paper keying form), bounded
    like a cast's `marks`: each `mark:ITEM` field's value; a field posted more than once (a
    multiple choice's checkboxes, in the page's order, which is its scale's) joined with ";".
    An empty field is no answer (a text left empty, a blank on paper); an upload is not one.

    Raises:
        BadInput: too many answers, an item id or an answer too long.
    """
    picked: dict[str, list[str]] = {}
    for name, value in fields:
        if name.startswith("mark:") and value != "":
            picked.setdefault(name[5:], []).append(value if isinstance(value, str) else "")
    try:
        return _marks.validate_python({k: ";".join(v) for k, v in picked.items()})
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise BadInput(f"Bad ballot: {where}: {err['msg']}" if where else "Bad ballot") from None


# --- server -> client -----------------------------------------------------------------------


class SnapshotFrame(Snapshot):
    """A snapshot as the hub sends it: numbered, and its turnout has `connected`."""

    seq: int


class TurnoutFrame(TypedDict):
    type: Literal["turnout"]
    seq: int
    turnout: LiveTurnout


class YouFrame(YouView):
    type: Literal["you"]


def encode(obj: Mapping[str, object]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def wire_text(text: str) -> bytes:
    """`text` as one whole WebSocket text frame from a server (RFC 6455 5.2: FIN, opcode 1,
    unmasked, no extension: the server runs without permessage-deflate). Built once per frame
    and written as is to every socket that takes it (ws.py), instead of each socket encoding
    and framing the same text again."""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        head = bytes((0x81, n))
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x81, 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 127, n)
    return head + payload


def encode_str(text: str) -> str:
    """One JSON string, as `encode` writes strings."""
    return json.dumps(text, ensure_ascii=False)


def ack(ballot_id: str, round_id: int) -> str:
    return encode({"type": "ack", "ballot_id": ballot_id, "round": round_id})


def error(code: str, message: str, ballot_id: str | None = None) -> str:
    return encode({"type": "error", "code": code, "message": message, "ballot_id": ballot_id})


PONG = encode({"type": "pong"})
