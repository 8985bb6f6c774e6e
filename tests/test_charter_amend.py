"""Amendments to the charter (issue 17): proposed from phones and the console, moderated on the
Charter page (accepted as a new version, declined with a reason, merged), then put to the room
beside the clause and adopted when the room prefers them.

The pure parts, the service on the server's own session, and over HTTP on SQLite and
PostgreSQL (the `settings` fixture)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from app import cli
from app.core.errors import Conflict, InvalidForm, NotFound
from app.record.charter_file import parse_charter
from app.rules import charter_doc as cd
from app.rules.charter import AmendmentStatus
from app.rules.charter_amend import (
    MAX_PER_VOTER,
    MAX_TEXT,
    ProposalStatus,
    clause_numbers,
    with_amendment,
)
from app.voting import charter_amendments as ca
from app.voting import meetings
from app.voting.models import CharterAmendment, Voter
from app.voting.models import Meeting as MeetingRow
from tests.conftest import FACILITATOR_KEY, LiveServer, Meeting, Phone, csrf_of, make_settings
from tests.test_charter_room import CHARTER, exported, text_of, upload, versions
from tests.test_charter_sign import chain
from tests.test_lab_record import bundle, commands

# --- pure ----------------------------------------------------------------------------------


def test_clauses_are_numbered_through_the_whole_charter() -> None:
    """Numbers run on across sections, in document order."""
    charter = cd.Charter(
        "T",
        sections=(
            cd.Section("a", "A", clauses=(cd.Clause("x", "X"), cd.Clause("y", "Y"))),
            cd.Section("b", "B", clauses=(cd.Clause("z", "Z"),)),
        ),
    )
    assert clause_numbers(charter) == {"x": 1, "y": 2, "z": 3}


def test_an_amendment_joins_its_clause_after_the_others_and_never_takes_a_used_key() -> None:
    """Added last to its own clause only; a clause or amendment key, or no such clause, refused."""
    charter = parse_charter(json.dumps(CHARTER))
    new = cd.Amendment("am-1", "Weekly.", "Bob wythnos.", AmendmentStatus.ACCEPTED)
    amended = with_amendment(charter, "library", new)
    library = {c.key: c for c in amended.clauses()}["library"]
    assert [a.key for a in library.amendments] == ["library-fortnight", "am-1"]
    assert {c.key: c for c in amended.clauses()}["respite"].amendments == ()
    assert amended.version == charter.version and cd.problems(amended) == []
    for clause, key in (("library", "respite"), ("library", "library-fortnight"), ("nope", "k")):
        with pytest.raises(ValueError):
            with_amendment(charter, clause, cd.Amendment(key, "Text."))


def test_a_proposal_is_checked_field_by_field_all_at_once() -> None:
    """No such clause, too long an English and Welsh text: three problems, by field; the
    text is cleaned of invisible characters."""
    charter = parse_charter(json.dumps(CHARTER))
    with pytest.raises(InvalidForm) as e:
        ca.parse_draft(
            charter,
            clause="nope",
            text="x" * (MAX_TEXT + 1),
            text_cy="y" * (MAX_TEXT + 1),
            prefix="amend-",
        )
    assert [f for f, _ in e.value.problems] == ["amend-clause", "amend-text", "amend-text-cy"]
    with pytest.raises(InvalidForm) as e:
        ca.parse_draft(charter, clause="respite", text="  \u200b ", prefix="amend-")
    assert [f for f, _ in e.value.problems] == ["amend-text"]
    got = ca.parse_draft(charter, clause="respite", text=" Two\u202e breaks. ", prefix="amend-")
    assert got == ca.Draft("respite", "Two breaks.", "")


# --- the service, on the server's session ---------------------------------------------------


@contextmanager
def unit(server: LiveServer) -> Iterator[Session]:
    with server.app.state.services.session() as session:
        yield session


def row_of(session: Session, meeting: Meeting) -> MeetingRow:
    return meetings.get_meeting(session, meeting.id)


def voters(server: LiveServer, meeting: Meeting) -> list[Voter]:
    with unit(server) as session:
        q = select(Voter).where(col(Voter.meeting_id) == meeting.id).order_by(col(Voter.id))
        rows = list(session.exec(q))
        session.expunge_all()
        return rows


def proposals(server: LiveServer, meeting: Meeting) -> list[CharterAmendment]:
    with unit(server) as session:
        rows = ca.queue(session, meeting.id)
        session.expunge_all()
        return rows


def propose_as(
    server: LiveServer, meeting: Meeting, voter: Voter, text: str, clause: str = "respite"
) -> CharterAmendment:
    with unit(server) as session:
        row = ca.propose(session, row_of(session, meeting), voter, ca.Draft(clause, text))
        session.expunge(row)
        return row


def open_amendments(server: LiveServer, meeting: Meeting, is_on: bool = True) -> None:
    with unit(server) as session:
        ca.set_open(session, row_of(session, meeting), is_on)


def test_phones_propose_only_while_amendments_are_open_and_within_their_limits(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone], monkeypatch: Any
) -> None:
    """Closed: refused. Open: a phone may send MAX_PER_VOTER in all, and the meeting holds at
    most MAX_PENDING waiting; a console proposal needs no switch. Nothing refused is kept."""
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    phones(), phones()
    first, second = voters(server, meeting)
    with pytest.raises(Conflict, match="not taking amendments"):
        propose_as(server, meeting, first, "Two breaks a month.")
    open_amendments(server, meeting)
    for n in range(MAX_PER_VOTER):
        propose_as(server, meeting, first, f"Wording {n}.")
    with pytest.raises(Conflict, match="the most one phone can send"):
        propose_as(server, meeting, first, "One more.")
    # The meeting's queue is full at MAX_PENDING waiting (here: the ten above).
    monkeypatch.setattr(ca, "MAX_PENDING", MAX_PER_VOTER)
    with pytest.raises(Conflict, match="waiting for the facilitator"):
        propose_as(server, meeting, second, "Another.")
    monkeypatch.undo()
    with pytest.raises(NotFound):
        propose_as(server, meeting, second, "Gone.", clause="no-such-clause")
    open_amendments(server, meeting, False)
    with unit(server) as session:
        draft = ca.Draft("library", "From the floor.", "O'r llawr.")
        row = ca.propose_console(session, row_of(session, meeting), draft)
        assert (row.channel, row.author_id, row.status) == ("console", None, "proposed")
    rows = proposals(server, meeting)
    assert len(rows) == MAX_PER_VOTER + 1
    assert len({r.key for r in rows}) == len(rows)
    assert all(cd.KEY.fullmatch(r.key) for r in rows)


def test_accepting_makes_a_version_declining_and_merging_do_not_and_each_is_decided_once(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Accept (its text corrected, Welsh added): the next version has it ACCEPTED beside its
    clause; decline keeps the reason; merge needs the same clause; a decided one stays so."""
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    phones()
    (voter,) = voters(server, meeting)
    open_amendments(server, meeting)
    a = propose_as(server, meeting, voter, "Carers get a break evry fortnight.")
    b = propose_as(server, meeting, voter, "Carers get a break each fortnight.")
    c = propose_as(server, meeting, voter, "Something off topic.")
    d = propose_as(server, meeting, voter, "The library comes weekly.", clause="library")
    with unit(server) as session:
        m = row_of(session, meeting)
        saved = ca.accept(
            session, m, a.key, "Carers get a break every fortnight.", "Seibiant bob pythefnos."
        )
        assert saved.number == 2
        with pytest.raises(Conflict, match="decided already"):
            ca.accept(session, m, a.key)
    now = parse_charter(exported(meeting).text)
    respite = {x.key: x for x in now.clauses()}["respite"]
    assert respite.amendments == (
        cd.Amendment(
            a.key,
            "Carers get a break every fortnight.",
            "Seibiant bob pythefnos.",
            AmendmentStatus.ACCEPTED,
        ),
    )
    with unit(server) as session:
        m = row_of(session, meeting)
        with pytest.raises(Conflict, match="same clause"):
            ca.merge(session, m, b.key, d.key)
        assert ca.merge(session, m, b.key, a.key).key == a.key
        with pytest.raises(InvalidForm):
            ca.parse_reason("")
        ca.decline(session, m, c.key, ca.parse_reason("Not about this clause."))
        with pytest.raises(Conflict):
            ca.merge(session, m, d.key, c.key)  # another clause, and declined
        with pytest.raises(NotFound):
            ca.decline(session, m, "am-nothing", "x")
    by_key = {r.key: r for r in proposals(server, meeting)}
    assert (by_key[a.key].status, by_key[a.key].version) == (ProposalStatus.ACCEPTED, 2)
    assert by_key[a.key].text == "Carers get a break every fortnight."
    assert (by_key[b.key].status, by_key[b.key].merged_into) == (ProposalStatus.MERGED, a.key)
    assert (by_key[c.key].status, by_key[c.key].reason) == (
        ProposalStatus.DECLINED,
        "Not about this clause.",
    )
    assert versions(meeting) == [2, 1]  # only the acceptance made one


def test_accepting_is_refused_while_a_charter_round_is_open(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """No version while phones answer the clauses: the proposal stays waiting; accepted once
    the round is closed."""
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    meeting.post("/rounds", kind="charter", proposal=["respite"])
    phones()
    (voter,) = voters(server, meeting)
    open_amendments(server, meeting)
    a = propose_as(server, meeting, voter, "Two breaks a month.")  # proposing is fine
    with unit(server) as session, pytest.raises(Conflict, match="is open"):
        ca.accept(session, row_of(session, meeting), a.key)
    (row,) = proposals(server, meeting)
    assert row.status == ProposalStatus.PROPOSED and versions(meeting) == [1]
    meeting.close_round(1)
    with unit(server) as session:
        assert ca.accept(session, row_of(session, meeting), a.key).number == 2


def test_audit_links_name_amendments_by_key_never_their_text_reason_or_proposer(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Proposed, accepted, declined, merged and the switch are in the chain with keys only."""
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    phones()
    (voter,) = voters(server, meeting)
    open_amendments(server, meeting)
    secret = "Call Gwen Jones on 07700 900123"
    a = propose_as(server, meeting, voter, f"{secret} about respite.")
    b = propose_as(server, meeting, voter, "Respite twice a month.")
    c = propose_as(server, meeting, voter, "Respite weekly.")
    with unit(server) as session:
        m = row_of(session, meeting)
        ca.decline(session, m, a.key, "Names a person: Gwen Jones.")
        ca.accept(session, m, b.key)
        ca.merge(session, m, c.key, b.key)
    links = chain(meeting)
    mine = [(x["kind"], x["data"]) for x in links if x["kind"].startswith("charter.amendment")]
    assert mine == [
        ("charter.amendments", {"open": True}),
        (
            "charter.amendment_proposed",
            {"amendment": a.key, "clause": "respite", "channel": "phone"},
        ),
        (
            "charter.amendment_proposed",
            {"amendment": b.key, "clause": "respite", "channel": "phone"},
        ),
        (
            "charter.amendment_proposed",
            {"amendment": c.key, "clause": "respite", "channel": "phone"},
        ),
        ("charter.amendment_declined", {"amendment": a.key}),
        ("charter.amendment_accepted", {"amendment": b.key, "clause": "respite", "version": 2}),
        ("charter.amendment_merged", {"amendment": c.key, "into": b.key}),
    ]
    text = json.dumps(links)
    assert "Gwen" not in text and "07700" not in text and "twice a month" not in text
    assert str(voter.id) not in {str(v) for _, d in mine for v in d.values()}


# --- over HTTP: the phone -------------------------------------------------------------------


def send(phone: Phone, code: str, **fields: Any) -> httpx.Response:
    """Post the amendment form with the joined phone's CSRF token."""
    return phone.c.post(
        f"/m/{code}/amend", data={"csrf": phone.csrf, **fields}, follow_redirects=False
    )


def test_a_phone_proposes_an_amendment_and_sees_its_status_in_both_languages(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Closed: the page says so and a post is refused (409). Open: the phone page links to
    the form, which numbers the clauses, warns about personal details and, once sent, lists
    the amendment waiting; declined, its reason shows; in Welsh too."""
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    phone = phones()
    assert "/amend" not in phone.c.get(f"/m/{meeting.code}").text
    page = phone.c.get(f"/m/{meeting.code}/amend").text
    assert "not taking amendments just now" in page
    r = send(phone, meeting.code, clause="respite", text="Two breaks.")
    assert r.status_code == 409 and "not taking amendments just now" in text_of(r.text)
    meeting.post("/charter/amendments/open", open="1")
    assert f'href="/m/{meeting.code}/amend"' in phone.c.get(f"/m/{meeting.code}").text
    page = text_of(phone.c.get(f"/m/{meeting.code}/amend").text)
    assert "Do not include personal details" in page
    assert "Clause 1: Carers get a respite break every month." in page
    assert "Clause 2: The mobile library visits every village each week." in page
    r = send(phone, meeting.code, clause="library", text="The library visits twice a week.")
    assert r.status_code == 303
    page = text_of(phone.c.get(r.headers["location"]).text)
    assert "Your amendment is waiting for the facilitator" in page
    assert "Amendment to clause 2: The library visits twice a week. — waiting" in page
    (row,) = proposals(server, meeting)
    meeting.post(
        f"/charter/amendments/{row.key}/decline",
        reason="The budget covers one visit.",
        confirm="yes",
    )
    page = text_of(phone.c.get(f"/m/{meeting.code}/amend").text)
    assert "not put to the vote: The budget covers one visit." in page
    cy = text_of(phone.c.get(f"/m/{meeting.code}/amend?lang=cy").text)
    assert "Mae gofalwyr yn cael seibiant bob mis." in cy
    assert "Cynnig gwelliant" in cy  # the page's own words in Welsh


def test_a_bad_proposal_comes_back_with_every_problem_and_nothing_is_kept(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """No clause and too long a text: 400, each by its field; a browser that has not joined
    is refused (409); nothing is stored."""
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    meeting.post("/charter/amendments/open", open="1")
    phone = phones()
    r = send(phone, meeting.code, clause="nope", text="x" * (MAX_TEXT + 1))
    assert r.status_code == 400
    assert 'href="#amend-clause"' in r.text and 'href="#amend-text"' in r.text
    assert "x" * MAX_TEXT in r.text  # what was typed comes back
    stranger = httpx.Client(base_url=server.url)
    try:
        csrf = csrf_of(stranger, f"/m/{meeting.code}")
        r = stranger.post(
            f"/m/{meeting.code}/amend", data={"csrf": csrf, "clause": "respite", "text": "Hi"}
        )
        assert r.status_code == 409 and "Join the meeting first" in r.text
    finally:
        stranger.close()
    assert proposals(server, meeting) == []


def test_a_phone_sending_amendments_too_fast_is_refused_before_anything_is_kept(
    tmp_path: Path,
) -> None:
    """Past limit_amendments_per_voter a post is refused (429, Retry-After), nothing stored;
    another phone is not affected."""
    with LiveServer(make_settings(tmp_path, limit_amendments_per_voter="2/minute")) as server:
        f = server.browser()
        f.get(f"/facilitator?key={FACILITATOR_KEY}")
        meeting = Meeting(f)
        assert upload(meeting, json.dumps(CHARTER)).status_code == 303
        meeting.post("/charter/amendments/open", open="1")
        phone = Phone(server.browser(), meeting.code)
        for n in range(2):
            assert send(phone, meeting.code, clause="respite", text=f"W{n}.").status_code == 303
        r = send(phone, meeting.code, clause="respite", text="W2.")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        other = Phone(server.browser(), meeting.code)
        assert send(other, meeting.code, clause="respite", text="W3.").status_code == 303
        assert [r.text for r in proposals(server, meeting)] == ["W0.", "W1.", "W3."]


# --- over HTTP: the console -----------------------------------------------------------------


def test_the_console_proposes_and_moderates_asking_first(
    server: LiveServer, meeting: Meeting
) -> None:
    """Typed from the floor: in the queue under its clause. Accept, decline and merge each ask
    first (nothing changes until confirmed); a refusal shows the page with the problem."""
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    for text in ("Respite every fortnight.", "Respite fortnightly.", "Off topic."):
        meeting.post("/charter/amendments/propose", clause="respite", text=text)
    bad = meeting.f.post(
        f"/console/{meeting.id}/charter/amendments/propose",
        data={"csrf": meeting.csrf, "clause": "respite", "text": ""},
    )
    assert bad.status_code == 400 and "Write the clause as you would have it." in text_of(bad.text)
    a, b, c = proposals(server, meeting)
    page = meeting.f.get(f"/console/{meeting.id}/charter").text
    words = text_of(page)
    assert "Amendments · 3 waiting" in words
    assert "Clause 1: Carers get a respite break every month." in words
    assert f"{a.key} · waiting · typed in the console" in words
    base = f"/console/{meeting.id}/charter/amendments"
    # Asked first, without JavaScript: a page, and nothing changes.
    for action, data in (
        ("accept", {"text": "Respite every fortnight."}),
        ("decline", {"reason": "Off topic."}),
        ("merge", {"into": a.key}),
    ):
        r = meeting.f.post(
            f"{base}/{a.key if action == 'accept' else c.key}/{action}",
            data={"csrf": meeting.csrf, **data},
        )
        assert r.status_code == 200 and 'name="confirm"' in r.text, action
    assert {p.status for p in proposals(server, meeting)} == {"proposed"}
    # A decline needs its reason, before it is even asked.
    r = meeting.f.post(f"{base}/{c.key}/decline", data={"csrf": meeting.csrf, "reason": " "})
    assert r.status_code == 400 and "Say why, in a sentence" in text_of(r.text)
    meeting.post(
        f"/charter/amendments/{a.key}/accept",
        text="Respite every fortnight.",
        text_cy="Seibiant bob pythefnos.",
        confirm="yes",
    )
    meeting.post(f"/charter/amendments/{b.key}/merge", into=a.key, confirm="yes")
    meeting.post(f"/charter/amendments/{c.key}/decline", reason="Off topic.", confirm="yes")
    words = text_of(meeting.f.get(f"/console/{meeting.id}/charter").text)
    assert f"{a.key} · accepted" in words and "In version 2." in words
    assert f"{b.key} · merged" in words and f"Merged into {a.key}." in words
    assert f"{c.key} · declined" in words and "Reason: Off topic." in words
    assert "an amendment accepted" in words  # the versions list says how version 2 was made
    # Decided already: refused with the page, 409.
    r = meeting.f.post(f"{base}/{a.key}/accept", data={"csrf": meeting.csrf, "confirm": "yes"})
    assert r.status_code == 409 and "decided already" in text_of(r.text)
    # Welsh page: the section in Welsh.
    cy = text_of(meeting.f.get(f"/console/{meeting.id}/charter?lang=cy").text)
    assert "Gwelliannau" in cy


def test_an_amendment_from_a_phone_is_accepted_voted_and_adopted(
    server: LiveServer,
    meeting: Meeting,
    phones: Callable[[], Phone],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A phone proposes a rewording of the respite clause; the facilitator accepts it with its
    Welsh; the next round asks it beside the original ("Amendment to clause 1" on phones and
    the projector's snapshot carries its clause); the room prefers it; the bundle's recount
    and audit verify pass with the amendment links in the log; adopting round 1's decisions
    makes the amendment the clause's wording."""
    spec = json.loads(json.dumps(CHARTER))
    spec["sections"][0]["clauses"][1]["amendments"] = []
    assert upload(meeting, json.dumps(spec)).status_code == 303
    meeting.post("/charter/amendments/open", open="1")
    proposer = phones()
    wording = "Carers get a respite break every fortnight."
    r = send(proposer, meeting.code, clause="respite", text=wording)
    assert r.status_code == 303
    (row,) = proposals(server, meeting)
    meeting.post(
        f"/charter/amendments/{row.key}/accept",
        text=wording,
        text_cy="Mae gofalwyr yn cael seibiant bob pythefnos.",
        confirm="yes",
    )
    meeting.post("/charter/amendments/open", open="0")
    assert versions(meeting) == [2, 1]
    assert "accepted: the room answers it beside the clause" in text_of(
        proposer.c.get(f"/m/{meeting.code}/amend").text
    )
    # In Welsh the phone lists it as the room answers it: in the Welsh the facilitator added.
    cy = proposer.c.get(f"/m/{meeting.code}/amend?lang=cy").text
    assert '<span lang="cy">Mae gofalwyr yn cael seibiant bob pythefnos.</span>' in cy
    assert wording not in cy
    proposer.c.get(f"/m/{meeting.code}/amend?lang=en")  # the phone back in English
    meeting.post("/rounds", kind="charter", proposal=["respite", row.key, "library"])
    rnd = meeting.state()["round"]
    amendment = {p["id"]: p for p in rnd["proposals"]}[row.key]
    assert amendment["group"]["id"] == "respite" and amendment["title"] == wording
    page = proposer.c.get(f"/m/{meeting.code}").text
    assert "Amendment to clause 1, answered beside it:" in page
    assert f'name="mark:{row.key}"' in page
    for _ in range(6):
        p = phones()
        assert p.vote({"respite": "3", row.key: "1", "library": "1"}).status_code == 200
    assert proposer.vote({"respite": "4", row.key: "1", "library": "2"}).status_code == 200
    meeting.close_round(1)
    record = meeting.f.get(f"/console/{meeting.id}/export/results.json").json()["rounds"][0]
    decided = {c["clause"]: c for c in record["charter"]["clauses"]}
    assert decided["respite"]["adopted"] == row.key
    assert decided["respite"]["decision"] == "ADOPTED"
    words = text_of(meeting.f.get(f"/console/{meeting.id}/rounds/1").text)
    assert f"Adopted as amended by {row.key}." in words
    # The public record: the recount and the log's check, amendment links and all.
    files = bundle(meeting)
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    monkeypatch.chdir(tmp_path)
    run = commands(files["README.txt"].decode())
    (recount,) = [c for c in run if c[0] == "recount"]
    capsys.readouterr()
    assert cli.main(recount) == 0
    assert capsys.readouterr().out.encode("utf-8") == files["results.json"]
    (verify,) = [c for c in run if c[:2] == ["audit", "verify"]]
    assert cli.main(verify) == 0
    assert b"charter.amendment_accepted" in files["audit.jsonl"]
    assert wording.encode() not in files["audit.jsonl"]
    meeting.post("/charter/adopt", round="1", confirm="yes")
    assert versions(meeting) == [3, 2, 1]
    adopted = {c.key: c for c in parse_charter(exported(meeting).text).clauses()}["respite"]
    assert adopted.text == wording
    assert adopted.text_cy == "Mae gofalwyr yn cael seibiant bob pythefnos."
    assert adopted.amendments == ()


def test_the_projector_names_an_amendment_against_its_clause(meeting: Meeting) -> None:
    """The projector's strings carry "Amendment to clause N" and "The wording adopted" in
    both languages (projector.js puts them on each wording's tile and card)."""
    page = meeting.f.get(f"/p/{meeting.code}").text
    strings = json.loads(re.search(r'id="strings-all">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert strings["en"]["charter_amendment_to"] == "Amendment to clause %(n)s"
    assert strings["en"]["charter_adopted"] == "The wording adopted"
    assert strings["cy"]["charter_amendment_to"] != strings["en"]["charter_amendment_to"]


def test_an_amendment_to_a_clause_since_removed_can_only_be_declined(
    server: LiveServer, meeting: Meeting
) -> None:
    """A new draft drops the clause: accepting is refused with the reason, the console lists
    the proposal under "Clauses no longer in the charter", and declining it still works."""
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    meeting.post("/charter/amendments/propose", clause="library", text="Weekly, with a van.")
    (row,) = proposals(server, meeting)
    spec = json.loads(json.dumps(CHARTER))
    del spec["sections"][0]["clauses"][1]
    assert upload(meeting, json.dumps(spec)).status_code == 303
    with unit(server) as session, pytest.raises(Conflict, match="no longer has clause library"):
        ca.accept(session, row_of(session, meeting), row.key)
    words = text_of(meeting.f.get(f"/console/{meeting.id}/charter").text)
    assert "Clauses no longer in the charter" in words and "Weekly, with a van." in words
    meeting.post(f"/charter/amendments/{row.key}/decline", reason="Clause removed.", confirm="yes")
    assert proposals(server, meeting)[0].status == ProposalStatus.DECLINED
