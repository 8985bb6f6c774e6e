"""One vocabulary: status words as StrEnums, and the outcome words said the same everywhere."""

from __future__ import annotations

import json
import re

from app.core.vocab import (
    DEVICE_CHANNELS,
    Admission,
    Channel,
    ChannelPolicy,
    RoundStatus,
    TicketStatus,
    admission,
    channel_policy,
)
from app.rules import explain
from app.rules.explain import english
from app.rules.tally import Category, Reason
from app.voting.models import Meeting as MeetingRow
from app.web.i18n import gettext_for
from tests.conftest import LiveServer, Meeting


def test_status_words_are_the_stored_strings() -> None:
    """Each enum member equals, prints and serialises as the word stored before the enums."""
    words = {
        Admission.OPEN: "open",
        Admission.TICKETS: "tickets",
        ChannelPolicy.ONE_CHANNEL: "one_channel",
        ChannelPolicy.LATEST: "latest",
        RoundStatus.OPEN: "open",
        RoundStatus.CLOSED: "closed",
        TicketStatus.ISSUED: "issued",
        TicketStatus.USED: "used",
        TicketStatus.REVOKED: "revoked",
    }
    for member, word in words.items():
        assert member == word and str(member) == word and f"{member}" == word
        assert json.dumps({member: member}) == json.dumps({word: word})
    assert [str(c) for c in Channel] == ["phone", "remote", "keypad", "paper"]
    assert DEVICE_CHANNELS == ("phone", "remote")


def test_null_and_unknown_columns_read_as_the_documented_defaults() -> None:
    """NULL admission is open and NULL channel policy is one_channel, on the model too."""
    assert admission(None) is Admission.OPEN and admission("tickets") is Admission.TICKETS
    assert channel_policy(None) is ChannelPolicy.ONE_CHANNEL
    assert channel_policy("latest") is ChannelPolicy.LATEST
    row = MeetingRow(code="ABCDEF", title="t", admission=None, channel_policy=None)
    assert not row.uses_tickets and row.policy is ChannelPolicy.ONE_CHANNEL
    row = MeetingRow(code="ABCDEF", title="t", admission="tickets", channel_policy="latest")
    assert row.uses_tickets and row.policy is ChannelPolicy.LATEST


def test_live_meanings_are_the_reports_in_every_language() -> None:
    """Every meaning the live screens show is the report's for that kind, category and reason."""
    for _ in (english, gettext_for("cy")):
        words = explain.live_strings(_)
        for kind in explain.KINDS:
            for c in Category:
                assert words[f"cat_{c}"] == explain.outcome(c, kind, _).label
                for r in Reason:
                    shown = words.get(f"means_{kind}_{c}_{r}", words[f"means_{kind}_{c}"])
                    assert shown == explain.outcome(c, kind, _, r).meaning, (kind, c, r)


def test_channel_names_follow_the_channel_order() -> None:
    """explain names every channel, in vocab.Channel's display order (the report's table)."""
    assert list(explain.CHANNEL_NAMES) == list(Channel)


def test_projector_says_what_the_report_says_of_a_fund_proposal_its_group_protects(
    server: LiveServer, meeting: Meeting
) -> None:
    """The projector's strings give a fund proposal PROTECTED by its affected group the report's
    meaning ("Backed by the people it affects"), not the strong-minority one."""
    page = server.browser().get(f"/p/{meeting.code}").text
    island = re.search(r'<script type="application/json" id="strings"[^>]*>(.*?)</script>', page)
    assert island is not None
    strings = json.loads(island.group(1))
    report_says = explain.outcome("PROTECTED", "fund", english, "affected-group").meaning
    assert strings["means_fund_PROTECTED_affected-group"] == report_says
    assert strings["icon_PROTECTED"] == explain.ICONS["PROTECTED"]
    assert strings["reason_affected-group"] == "Protected by the people it affects: %(groups)s"


def test_the_projector_legend_names_every_outcome_in_every_language() -> None:
    """live_strings carries a legend line per outcome and what WANT means per kind, translated
    in Welsh, and the categories in the rule's order (a JSON object's keys keep none)."""
    for _ in (english, gettext_for("cy")):
        words = explain.live_strings(_)
        assert words["categories"].split(",") == [str(c) for c in Category]
        for c in Category:
            assert words[f"legend_{c}"] == _(explain.LEGEND[c])
        for kind in explain.KINDS:
            assert words[f"want_means_{kind}"] == _(explain.WANT_MEANS[kind])
    welsh = explain.live_strings(gettext_for("cy"))
    assert all(welsh[f"legend_{c}"] != english(explain.LEGEND[c]) for c in Category)
