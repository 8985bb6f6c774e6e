"""The typed shapes (app/core/shapes/) and the wire cannot drift apart.

mypy checks that every producer builds and every consumer reads the keys a shape declares; these
tests check the other half: what a live meeting really sends (socket frames, the HTTP snapshot)
has exactly those keys, with values of the declared kinds, and every key a shape declares
optional is sent at least once, so no shape keeps a key the wire has lost.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any, Literal, Union, get_args, get_origin

import httpx
from typing_extensions import get_type_hints, is_typeddict

from app.core import shapes
from app.live import protocol
from tests.conftest import LiveServer, Meeting, Phone, Socket
from tests.test_budget_meeting import BUDGET_MEETING, PLAN

Frame = dict[str, Any]


class Conformance:
    """Checks JSON values against the shapes and remembers which optional keys it has seen."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.optional_seen: dict[Any, set[str]] = {}

    def check(self, value: object, tp: Any, where: str) -> None:
        if is_typeddict(tp):
            self._typed_dict(value, tp, where)
            return
        origin, args = get_origin(tp), get_args(tp)
        if origin in (Union, types.UnionType):
            if value is None and type(None) in args:
                return
            arms = [a for a in args if a is not type(None)]
            if len(arms) == 1:
                self.check(value, arms[0], where)
            elif any(self._scalar(value, a) for a in arms):
                return
            elif not self._one_arm(value, arms, where):
                self.problems.append(f"{where}: {value!r} is none of {tp}")
        elif origin is list:
            if not isinstance(value, list):
                self.problems.append(f"{where}: {value!r} is not a list")
                return
            for i, item in enumerate(value):
                self.check(item, args[0], f"{where}[{i}]")
        elif origin is dict:
            if not isinstance(value, dict):
                self.problems.append(f"{where}: {value!r} is not an object")
                return
            for k, item in value.items():
                self.check(item, args[1], f"{where}[{k!r}]")
        elif origin is Literal:
            if value not in args:
                self.problems.append(f"{where}: {value!r} is not one of {args}")
        elif not self._scalar(value, tp):
            self.problems.append(f"{where}: {value!r} is not {tp}")

    def _typed_dict(self, value: object, tp: Any, where: str) -> None:
        if not isinstance(value, dict):
            self.problems.append(f"{where}: {value!r} is not a {tp.__name__}")
            return
        required, optional = set(tp.__required_keys__), set(tp.__optional_keys__)
        if missing := sorted(required - set(value)):
            self.problems.append(f"{where}: {tp.__name__} requires {missing}, not sent")
        if unknown := sorted(set(value) - required - optional):
            self.problems.append(f"{where}: sent {unknown}, which {tp.__name__} does not declare")
        self.optional_seen.setdefault(tp, set()).update(optional & set(value))
        hints = get_type_hints(tp)
        for key, item in value.items():
            if key in hints:
                self.check(item, hints[key], f"{where}.{key}")

    def _one_arm(self, value: object, arms: list[Any], where: str) -> bool:
        """A union of shapes (a room vote's items or another kind's): the first arm the value
        conforms to, key for key, counts; only its optional keys count as seen."""
        for arm in arms:
            trial = Conformance()
            trial.check(value, arm, where)
            if not trial.problems:
                for tp, seen in trial.optional_seen.items():
                    self.optional_seen.setdefault(tp, set()).update(seen)
                return True
        return False

    @staticmethod
    def _scalar(value: object, tp: Any) -> bool:
        if tp is bool:
            return isinstance(value, bool)
        if tp is int:
            return isinstance(value, int) and not isinstance(value, bool)
        if tp is float:  # a JSON number
            return isinstance(value, int | float) and not isinstance(value, bool)
        if tp is str:
            return isinstance(value, str)
        return False

    def never_sent(self) -> list[str]:
        """Optional keys of every shape checked that no value carried."""
        return [
            f"{tp.__name__}.{key}"
            for tp, seen in self.optional_seen.items()
            for key in sorted(set(tp.__optional_keys__) - seen)
        ]


def first(socket: Socket, predicate: Callable[[Frame], bool]) -> Frame:
    return socket.until(predicate, timeout=10)


def test_what_a_live_meeting_sends_has_exactly_the_keys_of_its_shapes(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """Every frame of a budget meeting with a savings target, from before its first round to
    its revealed results, and the HTTP snapshot, match their TypedDicts key for key."""
    shape = Conformance()
    meeting = Meeting(facilitator, BUDGET_MEETING)
    with Socket(server, meeting.code) as projector:
        shape.check(projector.recv(), protocol.SnapshotFrame, "no round yet")
        meeting.open_round(*[p["id"] for p in BUDGET_MEETING["proposals"]])
        opened = first(projector, lambda f: f["type"] == "snapshot" and f["round"] is not None)
        shape.check(opened, protocol.SnapshotFrame, "round open")
        phones = []
        for segments, marks in PLAN:
            phone = Phone(server.browser(), meeting.code)
            if segments:
                assert phone.segments(*segments).status_code == 200
            assert phone.vote(marks).status_code == 200
            phones.append(phone)
        shape.check(first(projector, lambda f: f["type"] == "turnout"), protocol.TurnoutFrame, "")
        meeting.post("/rounds/1/countdown", seconds="60")
        counting = first(
            projector, lambda f: f["type"] == "snapshot" and "closes_in" in (f["round"] or {})
        )
        shape.check(counting, protocol.SnapshotFrame, "closing countdown")
        meeting.close_round(1)
        meeting.reveal(1)
        revealed = first(projector, lambda f: f["type"] == "snapshot" and bool(f["results"]))
        shape.check(revealed, protocol.SnapshotFrame, "revealed")
    with Socket(server, meeting.code, phones[-1].c) as phone_socket:
        shape.check(phone_socket.recv(), protocol.SnapshotFrame, "phone")
        phone_socket.send({"type": "hello", "last_seq": None})
        you = first(phone_socket, lambda f: f["type"] == "you")
        shape.check(you, protocol.YouFrame, "you")
        assert you["ballot"] is not None
    joined = phones[-1].state()
    shape.check(joined, shapes.MeetingState, "GET /api/m/CODE")
    assert "connected" not in joined["turnout"]  # a socket frame's only
    stranger = server.browser().get(f"/api/m/{meeting.code}").json()
    shape.check(stranger, shapes.MeetingState, "GET /api/m/CODE, not joined")
    assert stranger["you"] == {"voter": None, "segments": [], "ballot": None}

    assert shape.problems == []
    # A survey's online period is not part of a budget meeting: tests/test_survey_online.py
    # checks its snapshot against RoundView.
    assert shape.never_sent() == ["RoundView.online"]
    checked = {tp.__name__ for tp in shape.optional_seen}
    assert {"ResultsView", "ProposalView", "AffectedView", "FundingRecord", "AmountsView"} <= (
        checked
    )


def test_the_checker_catches_a_missing_an_unknown_and_a_mistyped_key() -> None:
    """The conformance check is not vacuous: each kind of drift is reported."""
    shape = Conformance()
    shape.check({"ratio": 2}, shapes.RuleView, "rule")
    shape.check({"ratio": 2, "group_min": 5, "extra": 1}, shapes.RuleView, "rule")
    shape.check({"ratio": "2", "group_min": True}, shapes.RuleView, "rule")
    assert shape.problems == [
        "rule: RuleView requires ['group_min'], not sent",
        "rule: sent ['extra'], which RuleView does not declare",
        "rule.ratio: '2' is not <class 'int'>",
        "rule.group_min: True is not <class 'int'>",
    ]
    shape.check({"proposals": [], "ranking": []}, shapes.ResultsView, "results")
    assert "ResultsView.currency" in shape.never_sent()


def test_a_round_record_carries_the_budget_and_savings_keys_as_their_records_declare_them() -> None:
    """MoneyKeys repeats FundingKeys and SavingsRecord (a TypedDict cannot make inherited keys
    optional); this keeps the three declarations, and BudgetRecord's, equal."""
    money = get_type_hints(shapes.MoneyKeys)
    assert shapes.MoneyKeys.__required_keys__ == frozenset()
    assert money == {
        **get_type_hints(shapes.FundingKeys),
        **get_type_hints(shapes.SavingsRecord),
    }
    budget = get_type_hints(shapes.BudgetRecord)
    funding = get_type_hints(shapes.FundingKeys)
    assert budget.pop("proposals") == funding.pop("funding")
    assert budget == funding
