"""The console's irreversible actions and the words that confirm them: one pattern for all.

Closing, voiding or reopening a round, removing a segment, a proposal or a saved keypad
receiver, revoking a keypad, a ticket or a helper's sign-in link, reissuing a ticket, deleting
people's contact details and signing every browser out cannot be undone. Each is a POST
that changes nothing until it carries `confirm` (`forms.confirm_first`):

* Without JavaScript the first POST answers with a page (console/confirm.html) that says what
  will happen, with a button that posts the same fields again with `confirm=yes`, and Cancel.
* With JavaScript (app/static/console/confirm.js) the form or button, marked by the
  `confirm_attrs` macro (console/_confirm.html), asks the same question in a <dialog> first
  and then submits with `confirm=yes`: the page is never seen.

The words are defined here once, for both. Deleting a meeting asks more (its code typed back)
on a page of its own (app/console/lifecycle.py), the same pattern with a stronger check.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.messages import N_


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What an irreversible action asks (`question`), what it does for good (`detail`) and its
    button (`yes`); `%(name)s` placeholders are filled from the action's parameters."""

    question: str
    detail: str
    yes: str


CONFIRMATIONS: dict[str, Confirmation] = {
    "replace_survey": Confirmation(
        N_("Change the survey people have answered?"),
        N_(
            "Their answers stay, but a question you remove or change no longer shows their "
            "answers to it in the results, and the survey's exported file changes. Export the "
            "survey first to keep the one they answered."
        ),
        N_("Yes, change the survey"),
    ),
    "end_online": Confirmation(
        N_("End round %(n)s's online period now?"),
        N_(
            "The survey closes now on every channel instead of at the time set: people who "
            "have not finished cannot come back to it. Its answers are sealed in the audit log."
        ),
        N_("Yes, end it now"),
    ),
    "close_round": Confirmation(
        N_("Close round %(n)s?"),
        N_(
            "Voting stops on every channel. Its ballots are sealed in the audit log; the results "
            "stay hidden until you reveal them."
        ),
        N_("Yes, close round %(n)s"),
    ),
    "adopt_charter": Confirmation(
        N_("Adopt round %(n)s's decisions as the charter's next version?"),
        N_(
            "Each clause adopted as amended takes the amendment's wording, and the amendments "
            "answered are cleared. Clauses sent back keep their wording. Signatures stay on the "
            "version they were given for."
        ),
        N_("Yes, adopt them"),
    ),
    "accept_amendment": Confirmation(
        N_("Put amendment %(key)s to the vote?"),
        N_(
            "It joins its clause in the charter's next version, worded as in the form, and "
            "the next consent round asks it beside the clause. Only a round's decisions or "
            "a new charter file take it out again."
        ),
        N_("Yes, accept it"),
    ),
    "decline_amendment": Confirmation(
        N_("Decline amendment %(key)s?"),
        N_(
            "It is not put to the vote. The phone that sent it shows your reason; the audit "
            "log records that it was declined, never the reason or the text."
        ),
        N_("Yes, decline it"),
    ),
    "merge_amendment": Confirmation(
        N_("Merge amendment %(key)s into %(into)s?"),
        N_(
            "It is not put to the vote on its own: the amendment it is merged into stands "
            "for both, and the phone that sent it says so."
        ),
        N_("Yes, merge them"),
    ),
    "start_review": Confirmation(
        N_("Start a review meeting of this charter?"),
        N_(
            "A new meeting is made with this meeting's rule and segments and the charter as it "
            "stands, linked to it so the reviews of this charter are found together. The room "
            "will rate each commitment kept, partly kept or not kept."
        ),
        N_("Yes, start the review meeting"),
    ),
    "withdraw_signature": Confirmation(
        N_("Withdraw %(name)s's signature?"),
        N_(
            "The charter no longer shows it as signed by them; the audit log keeps the "
            "signature and its withdrawal. They can sign again."
        ),
        N_("Yes, withdraw it"),
    ),
    "void_round": Confirmation(
        N_("Void round %(n)s?"),
        N_(
            "The round will not count: the report and the exports mark it “Voided — did not "
            "count” and the projector never shows its results. Its ballots stay in the record. "
            "An open round is closed first. A voided round cannot be revealed or made final."
        ),
        N_("Yes, void round %(n)s"),
    ),
    "reopen_round": Confirmation(
        N_("Reopen round %(n)s?"),
        N_(
            "Voting starts again on every channel; the ballots already cast stay and voters "
            "can change them. Closing it again seals it again in the audit log."
        ),
        N_("Yes, reopen round %(n)s"),
    ),
    "remove_segment": Confirmation(
        N_("Remove the segment “%(label)s”?"),
        N_("Attendees can no longer say they belong to it. To use it again, add it again."),
        N_("Yes, remove the segment"),
    ),
    "remove_proposal": Confirmation(
        N_("Remove the proposal “%(title)s”?"),
        N_(
            "It leaves the set-up and the drawn tie-break order. Added again, it is drawn a new "
            "place in that order."
        ),
        N_("Yes, remove the proposal"),
    ),
    "remove_items": Confirmation(
        N_("Save and remove %(items)s?"),
        N_(
            "Removed segments can no longer be declared; removed proposals leave the drawn "
            "tie-break order. To use one again, add it again."
        ),
        N_("Yes, save and remove"),
    ),
    "revoke_keypad": Confirmation(
        N_("Revoke keypad %(label)s?"),
        N_(
            "Its presses stop counting; the ballots it has cast stay counted. A revoked keypad "
            "cannot be restored: register it again to use it."
        ),
        N_("Yes, revoke keypad %(label)s"),
    ),
    "forget_receiver": Confirmation(
        N_("Remove the receiver %(url)s?"),
        N_(
            "It is closed now and no longer opened when Covote starts; its keypads' presses stop "
            "counting until a receiver is added again."
        ),
        N_("Yes, remove the receiver"),
    ),
    "revoke_ticket": Confirmation(
        N_("Revoke ticket No. %(n)s?"),
        N_(
            "Its voter's new ballots are refused on every channel; the ballots already cast stay "
            "counted. A revoked ticket cannot be restored."
        ),
        N_("Yes, revoke ticket No. %(n)s"),
    ),
    "reissue_ticket": Confirmation(
        N_("Reissue ticket No. %(n)s?"),
        N_(
            "A new ticket votes for the same voter. The old card, and the phone it is used on, "
            "stop working for good."
        ),
        N_("Yes, reissue ticket No. %(n)s"),
    ),
    "revoke_link": Confirmation(
        N_("Revoke the sign-in link “%(name)s”?"),
        N_(
            "The link stops working and the helper's browsers are signed out at once. Make a new "
            "link if they need one again."
        ),
        N_("Yes, revoke the link"),
    ),
    "delete_contact": Confirmation(
        N_("Delete the details of %(name)s?"),
        N_(
            "Their name and contact details are deleted from the people list for good. Do this "
            "when they ask, once you no longer need them."
        ),
        N_("Yes, delete their details"),
    ),
    "delete_people": Confirmation(
        N_("Delete the whole people list (%(n)s people)?"),
        N_(
            "Every name and contact detail on this meeting's list is deleted for good. Download "
            "people.csv first if you still need it."
        ),
        N_("Yes, delete the whole list"),
    ),
    "end_all": Confirmation(
        N_("Sign out every browser?"),
        N_(
            "Every console browser signs out, this one and helpers' too. You will need the "
            "facilitator link again."
        ),
        N_("Yes, sign out everywhere"),
    ),
}
