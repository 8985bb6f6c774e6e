"""The charter adopted and signed (issue 17): a consent round's decisions made the next version,
each party's signature on a version, and the charter PDF's document.

Contract: every function takes the caller's session and never commits; each change is a set-up
change (`meetings._touch`: refused for an archived meeting) with its audit link:

* `adopt_round` makes the next version from a closed charter round's decisions
  (`charter_doc.adopt`, saved as `charters.save_charter` does, so `charter.saved`).
* `sign` stores a party's signature on the CURRENT version and logs `charter.signed` with the
  party's key, the version, the signature's number, the name, role and organisation as typed
  (public: they are printed on the charter) and the drawing's SHA-256 (or null): the likeness of
  a hand stays out of the public chain, its hash proves which one was printed. One signature per
  party and version: withdraw it to sign again.
* `withdraw` keeps the row (with `withdrawn_at`) and logs `charter.withdrawn`.
A later version voids nothing: a signature stays on the version it was given for, and the page
and the PDF say which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, NotFound
from app.core.localtime import local
from app.core.messages import N_
from app.core.vocab import CHARTER, RoundStatus
from app.record import charter_pdf as pdf
from app.rules import charter_doc as cd
from app.rules import charter_sign as cs
from app.rules import charter_words
from app.rules.charter import AmendmentStatus, Reason
from app.rules.charter_count import ClauseDecision
from app.rules.explain import Translate
from app.voting import audit, charters, kinds, rounds
from app.voting.charter_kind import CharterKind
from app.voting.lab_helping import segment_labels
from app.voting.meetings import _touch, zone_of
from app.voting.models import CharterSignature, CharterVersion, Meeting, Round, utcnow


@dataclass(frozen=True, slots=True)
class Signing:
    """A signature as typed on the form, before it is checked."""

    party: str
    name: str
    role: str
    organisation: str
    drawing: str = ""


def _decided(session: Session, meeting: Meeting, rnd: Round) -> tuple[ClauseDecision, ...]:
    kind = kinds.kind_of(rnd)
    assert isinstance(kind, CharterKind)
    return kind.decisions(session, meeting, rnd)


def adopt_round(session: Session, meeting: Meeting, number: int) -> CharterVersion:
    """Charter round `number`'s decisions as the next version: each clause adopted as amended
    takes the amendment's wording, answered amendments are cleared.

    Raises:
        NotFound: no such round.
        Conflict: not a closed charter round, or it was voided; a charter round is open; the
            decisions change nothing; the charter changed since the round opened in the
            clauses it decided.
    """
    assert meeting.id is not None
    rnd = rounds.get_round(session, meeting, number)
    if rnd.kind != CHARTER or rnd.status != RoundStatus.CLOSED:
        raise Conflict(N_("Only a closed charter round's decisions can be adopted."))
    current = charters.charter_of(session, meeting.id)
    if current is None:
        raise Conflict(N_("Import a charter first."))
    try:
        adopted = _adoption(session, meeting, rnd, current)
    except ValueError:
        raise Conflict(
            N_("The charter has changed since round %(n)s: its decisions no longer fit it."),
            n=number,
        ) from None
    saved = charters.save_charter(session, meeting, adopted, "adopted")
    if saved is None:
        raise Conflict(N_("The decisions change nothing: the charter stays as it is."))
    return saved


def _adoption(session: Session, meeting: Meeting, rnd: Round, current: cd.Charter) -> cd.Charter:
    """`current` with closed charter round `rnd`'s decisions not yet taken adopted
    (`charter_doc.adopt`, ValueError when they no longer fit it)."""
    assert meeting.id is not None
    asked = charters.charter_at(session, meeting.id, rnd.opened_at) or cd.Charter("")
    return cd.adopt(current, _still_to_adopt(current, asked, _decided(session, meeting, rnd)))


def adoptable(session: Session, meeting: Meeting) -> list[int]:
    """The closed charter rounds the Charter page offers to adopt, by number: those whose
    decisions would change the current version. A round adopted already (nothing left to
    change) is left out; one whose decisions no longer fit the charter stays, so adopting it
    says why it cannot (`adopt_round`)."""
    assert meeting.id is not None
    current = charters.charter_of(session, meeting.id)
    if current is None:
        return []
    out = []
    for rnd in charters.charter_rounds(session, meeting.id):
        if rnd.status != RoundStatus.CLOSED:
            continue
        try:
            adopted = _adoption(session, meeting, rnd, current)
        except ValueError:
            out.append(rnd.number)
            continue
        if replace(adopted, version=current.version) != current:
            out.append(rnd.number)
    return sorted(out)


def _still_to_adopt(
    current: cd.Charter, asked: cd.Charter, decisions: Sequence[ClauseDecision]
) -> list[ClauseDecision]:
    """The decisions less those the current version has taken already: a clause whose adopted
    amendment is gone from it and whose text is that amendment's (adopted before). Others stay,
    so a clause reworded since the round still makes `charter_doc.adopt` refuse."""
    wording = {a.key: a.text for c in asked.clauses() for a in c.amendments}
    now = {c.key: c for c in current.clauses()}
    out = []
    for d in decisions:
        clause = now.get(d.clause)
        if (
            clause is not None
            and d.adopted not in (None, d.clause)
            and all(a.key != d.adopted for a in clause.amendments)
            and clause.text == wording.get(d.adopted or "")
        ):
            continue
        out.append(d)
    return out


def _text(value: str, empty: str, long: str, most: int) -> str:
    """A typed field with its spaces collapsed; `empty` and `long` (msgids, `%(n)s` the bound)
    refuse it when it is empty or over `most` characters."""
    text = " ".join(value.split())
    if not text:
        raise BadInput(empty)
    if len(text) > most:
        raise BadInput(long, n=most)
    return text


def sign(session: Session, meeting: Meeting, signing: Signing) -> CharterSignature:
    """Store the party's signature on the current version; logs `charter.signed`.

    Raises:
        BadInput: a field empty or too long (names are words, not essays), or a drawing that
            is not one (`charter_sign.parse_drawing`).
        NotFound: no charter, or the party is not one of the current version's.
        Conflict: the party has signed this version already.
    """
    assert meeting.id is not None
    name = _text(
        signing.name,
        N_("Give the representative's name."),
        N_("A name is at most %(n)s characters."),
        cs.MAX_NAME,
    )
    role = _text(
        signing.role,
        N_("Give the representative's role."),
        N_("A role is at most %(n)s characters."),
        cs.MAX_ROLE,
    )
    organisation = _text(
        signing.organisation,
        N_("Give the representative's organisation."),
        N_("An organisation is at most %(n)s characters."),
        cs.MAX_ORGANISATION,
    )
    drawing: str | None = None
    if signing.drawing.strip():
        try:
            drawing = cs.drawing_text(cs.parse_drawing(signing.drawing))
        except cs.DrawingError:
            raise BadInput(
                N_("The drawn signature could not be read: clear it and sign again.")
            ) from None
    row = charters.current_version(session, meeting.id)
    if row is None:
        raise NotFound(N_("This meeting has no charter yet."))
    charter = charters.parse_stored(row.definition)
    if signing.party not in {p.key for p in charter.parties}:
        raise NotFound(N_("The charter has no such party."))
    if any(
        s.party == signing.party and s.version == row.number for s in active(session, meeting.id)
    ):
        raise Conflict(
            N_("This party has signed version %(n)s already: withdraw that signature first."),
            n=row.number,
        )
    sig = CharterSignature(
        meeting_id=meeting.id,
        party=signing.party,
        version=row.number,
        name=name,
        role=role,
        organisation=organisation,
        drawing=drawing,
    )
    session.add(sig)
    _touch(meeting)
    session.add(meeting)
    session.flush()
    audit.record(
        session,
        meeting.id,
        "charter.signed",
        {
            "signature": sig.id,
            "party": sig.party,
            "version": sig.version,
            "name": name,
            "role": role,
            "organisation": organisation,
            "drawing_sha256": None if drawing is None else cs.drawing_sha256(drawing),
        },
    )
    return sig


def withdraw(session: Session, meeting: Meeting, signature_id: int) -> CharterSignature:
    """Withdraw a signature (kept, marked withdrawn); logs `charter.withdrawn`.

    Raises:
        NotFound: no such signature in force in this meeting.
    """
    assert meeting.id is not None
    sig = session.get(CharterSignature, signature_id)
    if sig is None or sig.meeting_id != meeting.id or sig.withdrawn_at is not None:
        raise NotFound(N_("There is no such signature."))
    sig.withdrawn_at = utcnow()
    session.add(sig)
    _touch(meeting)
    session.add(meeting)
    audit.record(
        session,
        meeting.id,
        "charter.withdrawn",
        {"signature": sig.id, "party": sig.party, "version": sig.version},
    )
    return sig


def active(session: Session, meeting_id: int) -> list[CharterSignature]:
    """The signatures in force (not withdrawn), oldest first."""
    q = (
        select(CharterSignature)
        .where(
            CharterSignature.meeting_id == meeting_id,
            col(CharterSignature.withdrawn_at).is_(None),
        )
        .order_by(col(CharterSignature.id))
    )
    return list(session.exec(q))


# --- the PDF's document ------------------------------------------------------------------------


def _why(
    reasons: Sequence[str], groups: Sequence[str], labels: Mapping[str, str], _: Translate
) -> str:
    """A sent-back wording's reasons in short words (`charter_words.SHORT_REASONS`), the
    blocking groups by name, joined with "; "."""
    named = _(", ").join(labels.get(g, g) for g in groups)
    return "; ".join(
        _(charter_words.SHORT_REASONS[r], groups=named)
        if r == Reason.GROUP_BLOCKS
        else _(charter_words.SHORT_REASONS[r])
        for r in reasons
        if r in charter_words.SHORT_REASONS
    )


def _latest_decisions(
    session: Session, meeting: Meeting
) -> dict[str, tuple[int, cd.Charter, ClauseDecision]]:
    """Per clause, the last closed (not voided) charter round that decided it: its number, the
    version it asked and the decision."""
    assert meeting.id is not None
    out: dict[str, tuple[int, cd.Charter, ClauseDecision]] = {}
    closed = [
        r for r in charters.charter_rounds(session, meeting.id) if r.status == RoundStatus.CLOSED
    ]
    for rnd in sorted(closed, key=lambda r: r.number):
        asked = charters.charter_at(session, meeting.id, rnd.opened_at) or cd.Charter("")
        for d in _decided(session, meeting, rnd):
            out[d.clause] = (rnd.number, asked, d)
    return out


def document(
    session: Session, meeting: Meeting, _: Translate, at: datetime | None = None
) -> pdf.CharterDocument:
    """What the charter PDF prints: the current version with each clause's last decision, the
    commitments per party, the signatures in force and the audit chain's head now; printed
    `at` (default now: the export bundle passes its own time).

    Raises:
        NotFound: the meeting has no charter.
    """
    assert meeting.id is not None
    printed = at if at is not None else utcnow()
    charter = charters.charter_of(session, meeting.id)
    if charter is None:
        raise NotFound(N_("This meeting has no charter yet."))
    decided = _latest_decisions(session, meeting)
    # The groups that blocked a clause by their names in the reader's language (the Translator
    # knows its locale; a plain function reads the meeting's own labels).
    group_names = segment_labels(session, meeting.id, getattr(_, "locale", ""))
    status_words = {
        AmendmentStatus.PROPOSED: _("proposed"),
        AmendmentStatus.ACCEPTED: _("accepted"),
        AmendmentStatus.DECLINED: _("declined"),
    }

    def clause_line(c: cd.Clause) -> pdf.ClauseLine:
        amendments = [
            pdf.AmendmentLine(a.key, a.text, a.text_cy, status_words[a.status])
            for a in c.amendments
        ]
        if c.key not in decided:
            return pdf.ClauseLine(c.key, c.text, c.text_cy, "", amendments=tuple(amendments))
        number, asked, d = decided[c.key]
        texts = {a.key: a for x in asked.clauses() for a in x.amendments}
        chosen = next((w for w in d.wordings if w.item == d.adopted), d.wordings[0])
        first = next((x for x in asked.clauses() if x.key == c.key), c)
        texts = {**texts, c.key: cd.Amendment(c.key, first.text, first.text_cy)}
        for w in d.wordings:
            if w.item == d.clause and d.adopted in (None, d.clause):
                continue  # the clause's own line says it
            if w.item == d.adopted:
                fate = _("adopted")
            elif w.outcome.category.adopted:
                fate = _(
                    "%(category)s, not chosen",
                    category=charter_words.category_name(w.outcome.category, _),
                )
            else:
                fate = charter_words.category_name(w.outcome.category, _)
            if w.item == d.clause:
                fate = _("as first worded: %(fate)s", fate=fate)
            was = texts.get(w.item)
            amendments.append(
                pdf.AmendmentLine(
                    w.item, was.text if was else "", was.text_cy if was else "", fate, w.counts.by
                )
            )
        decision = _(
            "%(decision)s in round %(n)s",
            decision=charter_words.category_name(d.category, _),
            n=number,
        )
        if not d.category.adopted:  # sent back: why, as the round's page says it
            decision = _(
                "%(decision)s: %(reasons)s",
                decision=decision,
                reasons=_why(chosen.outcome.reasons, chosen.outcome.groups, group_names, _),
            )
        return pdf.ClauseLine(
            c.key, c.text, c.text_cy, decision, chosen.counts.by, tuple(amendments)
        )

    parties = {p.key: p for p in charter.parties}
    zone = zone_of(meeting)
    signatures = tuple(
        pdf.SignatureLine(
            parties[s.party].name if s.party in parties else s.party,
            s.name,
            s.role,
            s.organisation,
            _(
                "version %(n)s, signed %(date)s",
                n=s.version,
                date=f"{local(s.signed_at, zone):%Y-%m-%d}",
            ),
            cs.parse_drawing(s.drawing) if s.drawing else (),
            parties[s.party].name_cy if s.party in parties else "",
        )
        for s in active(session, meeting.id)
    )
    seq, head = audit.head_of(session, meeting.id)
    bilingual = bool(charter.title_cy) or any(c.text_cy for c in charter.clauses())
    answers = [
        _("Fully support"),
        _("Support with reservations"),
        _("Can live with it"),
        _("Need a change"),
        _("Block"),
    ]
    labels = {
        "title_line": _(
            "Community Charter, version %(n)s, printed %(date)s",
            n=charter.version,
            date=f"{local(printed, zone):%Y-%m-%d %H:%M}",
        ),
        "answers": ";".join(answers),
        "support": _("Support"),
        "decision": _("Decision"),
        "amendments": _("Amendments"),
        "commitments": _("Commitments"),
        "by_when": _("By"),
        "measure": _("Measured by"),
        "signatures": _("Signatures"),
        "no_signatures": _("No party has signed yet."),
        "party": _("Party"),
        "signatory": _("Signed by"),
        "audit": _("Audit log at printing: %(n)s links, the last one's hash:", n=seq),
        "not_decided": _("Not yet decided by a consent round."),
        "page": _("Page %(page)s of %(pages)s"),
    }
    return pdf.CharterDocument(
        meeting=meeting.title,
        title=charter.title,
        title_cy=charter.title_cy,
        version=charter.version,
        bilingual=bilingual,
        sections=tuple(
            pdf.SectionLine(s.title, s.title_cy, tuple(clause_line(c) for c in s.clauses))
            for s in charter.sections
        ),
        parties=tuple(
            pdf.PartyLine(
                p.name,
                p.name_cy,
                tuple(
                    pdf.CommitmentLine(c.what, c.what_cy, c.by_when, c.measure, c.measure_cy)
                    for c in charter.commitments
                    if c.party == p.key
                ),
            )
            for p in charter.parties
        ),
        signatures=signatures,
        audit_seq=seq,
        audit_hash=head,
        printed_at=printed,
        labels=labels,
    )


def signed_parties(
    session: Session, meeting_id: int, parties: Sequence[cd.Party]
) -> list[tuple[cd.Party, list[CharterSignature]]]:
    """Each party with its signatures in force (any version), for the console page."""
    sigs = active(session, meeting_id)
    return [(p, [s for s in sigs if s.party == p.key]) for p in parties]
