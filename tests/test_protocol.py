"""The WebSocket protocol, without a socket: every number a client sends is bounded."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core import bounds
from app.core.errors import BadInput
from app.live import protocol

OUT_OF_RANGE_IDS = st.one_of(st.integers(max_value=0), st.integers(min_value=bounds.DB_INT_MAX + 1))


def cast(round_id: object) -> str:
    return json.dumps(
        {"type": "cast", "ballot_id": "abcdefgh", "round": round_id, "marks": {"a": "want"}}
    )


@given(st.integers(min_value=1, max_value=bounds.DB_INT_MAX))
def test_a_round_id_the_database_can_hold_is_accepted(round_id: int) -> None:
    """Every id from 1 to 2**31-1 parses as the cast's round."""
    msg = protocol.parse_client(cast(round_id))
    assert isinstance(msg, protocol.Cast) and msg.round == round_id


@given(OUT_OF_RANGE_IDS)
def test_a_round_id_out_of_range_is_refused_with_a_reason(round_id: int) -> None:
    """0, negatives and anything past 2**31-1 (2**63, -2**63-1, 400 digits) are a BadInput."""
    with pytest.raises(BadInput, match="round"):
        protocol.parse_client(cast(round_id))


@pytest.mark.parametrize("last_seq", [-1, bounds.SEQ_MAX + 1, 2**63, 10**400])
def test_a_hello_with_an_out_of_range_seq_is_refused(last_seq: int) -> None:
    """A hello's last_seq is a snapshot seq or null; nothing beyond 2**53 is one."""
    with pytest.raises(BadInput, match="last_seq"):
        protocol.parse_client(json.dumps({"type": "hello", "last_seq": last_seq}))


@pytest.mark.parametrize("uid", ["paper:r2:s7", "keypad:" + "0" * 32, "a:b:c:d:e"])
def test_a_cast_cannot_carry_a_server_ballot_id(uid: str) -> None:
    """Ids with ':' are the server's own (paper sheets, keypads): no client frame carries one."""
    raw = json.dumps({"type": "cast", "ballot_id": uid, "round": 1, "marks": {"a": "want"}})
    with pytest.raises(BadInput, match="ballot_id"):
        protocol.parse_client(raw)
