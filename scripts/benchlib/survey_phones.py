"""(7) A survey answered in the room (issue 15): N phones answer a survey round at once, as the
phone page does: one screen (a service's questions, then the other questions) at a time, each
Next sending the ballot with every answer so far and waiting for its ack before the next
screen (closed loop, no reading time: the heaviest the room can be).

The facilitator makes the meeting's survey from its proposals (one service per proposal, six
questions each) and opens a survey round; the projector is connected throughout. Reports:
- `survey_acks_per_s`: ballots acked per second over the answering (every screen's cast);
- `survey_ack_p50_ms` / `survey_ack_p99_ms`: each cast's round trip to its ack;
- `survey_turnout_p50_ms` / `survey_turnout_p99_ms`: from a respondent's first ballot being
  sent to the projector's first frame counting it (turnout.voted; matched in send order, as
  the latency phase does);
- `survey_vs_ingest_ratio`: acks/s against the vote phase's closed-loop `ingest_per_s` (a
  survey ballot carries up to 6 x the proposals' answers, a vote's one per proposal);
- the check that every phone's last ballot is stored with exactly its marks.
Not in the quick run (`--only survey` or the full run): 2,000 phones joining take a minute.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from benchlib.clients import Projector, VotedLog, close_all
from benchlib.phones import BrowserPhone, join_one
from benchlib.util import Meter, log, pct

if TYPE_CHECKING:
    from benchlib.covote import Run

perf = time.perf_counter


def screens(items: list[dict[str, Any]], who: int) -> list[dict[str, str]]:
    """Each screen's answers for respondent `who`, in the order the phone asks them (an item
    typed as a number gets its scale's lowest value; others one of their listed answers)."""
    groups: dict[str, dict[str, str]] = {}
    for i, item in enumerate(items):
        scale = item["scale"]
        listed = [a["value"] for a in scale.get("answers", [])]
        if listed:
            answer = listed[(who + i) % len(listed)]
        elif "low" in scale:
            answer = str(scale["low"] + who % 3)
        else:
            answer = f"idea {who}"  # a text question
        group = (item.get("group") or {}).get("id", item["id"])
        groups.setdefault(group, {})[item["id"]] = answer
    return list(groups.values())


async def run_survey(run: Run) -> None:
    cfg, out, f = run.cfg, run.out, run.f
    n = cfg.all_phones
    await run.ensure_connected(0)  # only this phase's phones in the room
    rnd = (await f.state())["round"]
    if rnd and rnd["status"] == "open":
        await f.post(f"/console/{f.meeting_id}/rounds/{rnd['number']}/close", ("confirm", "yes"))
    await f.post(f"/console/{f.meeting_id}/survey/from-proposals")
    await f.post(f"/console/{f.meeting_id}/rounds", ("kind", "survey"))
    rnd = (await f.state())["round"]
    assert rnd and rnd["status"] == "open" and rnd["kind"] == "survey", rnd
    items: list[dict[str, Any]] = rnd["proposals"]
    log(f"covote: survey round {rnd['number']} open, {len(items)} questions; {n} phones join")
    sem = asyncio.Semaphore(cfg.join_concurrency_all)
    joined = await asyncio.gather(*(join_one(run, sem) for _ in range(n)), return_exceptions=True)
    phones = [p for p in joined if isinstance(p, BrowserPhone)]
    if len(phones) < n:
        run.notes.append(f"survey: {n - len(phones)} of {n} phones could not join")
    projector = await Projector().connect(run.ws_url)
    voted = VotedLog(rnd["id"])
    projector.track = voted
    plans = [screens(items, i) for i in range(len(phones))]
    acks: list[float] = []
    first_sent: list[float] = []
    finals: list[dict[str, str]] = [{} for _ in phones]

    async def answer(i: int, p: BrowserPhone) -> None:
        marks: dict[str, str] = {}
        for step, screen in enumerate(plans[i]):
            marks.update(screen)
            t = perf()
            if step == 0:
                first_sent.append(t)
            async with asyncio.timeout(cfg.ack_timeout_s):
                await p.cast(rnd["id"], json.dumps(marks, separators=(",", ":")))
            acks.append(perf() - t)
        finals[i] = dict(marks)

    meter = Meter(run.proc)
    sampler = run.sampler("survey")
    t0 = perf()
    results = await asyncio.gather(
        *(answer(i, p) for i, p in enumerate(phones)), return_exceptions=True
    )
    took = perf() - t0
    win = meter.stop()
    run.stop_sampler(sampler, "survey")
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        run.notes.append(f"survey: {len(failed)} of {len(phones)} phones failed: {failed[0]!r}")
    try:  # the projector's last frame: every respondent counted
        await projector.wait_for(
            lambda s: (s.get("turnout") or {}).get("voted", 0) >= len(phones), 10.0
        )
    except TimeoutError:
        run.notes.append("survey: the projector never counted every respondent")
    turnout = []
    for k, sent in enumerate(sorted(first_sent)):
        shown = voted.first_at_least(k + 1)
        if shown is not None:
            turnout.append(max(0.0, shown - sent))
    await close_all([*phones, projector])

    from benchlib.covote import stored_ballots  # (covote imports this module)

    stored = await asyncio.to_thread(stored_ballots, run.db, rnd["id"])
    wanted = sorted(json.dumps(m, sort_keys=True) for m in finals if m)
    got = sorted(json.dumps(m, sort_keys=True) for m in stored.values())
    c = run.checks
    c["acked_checked"] += len(wanted)
    missing = len(wanted) - len(got)
    c["missing"] += max(0, missing)
    c["extra_rows"] += max(0, -missing)
    c["wrong_marks"] += 0 if wanted == got else max(1, abs(missing))
    out["survey_phones"] = len(phones)
    out["survey_questions"] = len(items)
    out["survey_screens"] = len(plans[0]) if plans else 0
    out["survey_acks"] = len(acks)
    out["survey_acks_per_s"] = round(len(acks) / took, 1)
    out["survey_ack_p50_ms"] = _ms(pct(acks, 50))
    out["survey_ack_p99_ms"] = _ms(pct(acks, 99))
    out["survey_turnout_p50_ms"] = _ms(pct(turnout, 50))
    out["survey_turnout_p99_ms"] = _ms(pct(turnout, 99))
    out["survey_server_cpu_ms_per_ack"] = round(win.server_cpu * 1000 / max(1, len(acks)), 3)
    out["survey_server_util"] = round(win.server_util, 3)
    out["survey_stored_ok"] = wanted == got
    if isinstance(out.get("ingest_per_s"), int | float) and out["ingest_per_s"]:
        out["survey_vs_ingest_ratio"] = round(out["survey_acks_per_s"] / out["ingest_per_s"], 3)
    log(
        f"  {len(acks)} survey ballots from {len(phones)} phones in {took:.1f} s: "
        f"{out['survey_acks_per_s']:,.0f} acks/s, ack p50 {out['survey_ack_p50_ms']} ms / "
        f"p99 {out['survey_ack_p99_ms']} ms, projector turnout p50 "
        f"{out['survey_turnout_p50_ms']} ms / p99 {out['survey_turnout_p99_ms']} ms, "
        f"server {win.server_util:.0%}, stored {'ok' if wanted == got else 'WRONG'}"
    )
    run.window_note("survey, all phones answering", win)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)
