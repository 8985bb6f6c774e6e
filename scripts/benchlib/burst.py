"""(5) The burst everyone fears (issue 14): N phones, each holding its live socket as a browser
does (joined, connected, `hello` sent, a reader on every socket), all released at the same
moment, each casting once in a fresh round.

Measured from the first cast: until the projector shows all N counted (`burst_N_s`), and until
every phone has its ack (`burst_N_ack_s`). The stored ballots are checked like every other
round's (every acked ballot is in the database with its marks).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from benchlib.clients import Projector
from benchlib.util import Meter, log

if TYPE_CHECKING:
    from benchlib.covote import Run

perf = time.perf_counter


async def bursts(run: Run) -> None:
    for n in sorted(set(run.cfg.burst_sizes)):
        await burst(run, n)


async def _enough_joined(run: Run, n: int) -> None:
    """At least n joined phones (the memory phase joins `max_phones`, which covers the burst
    sizes unless --burst asked for more)."""
    missing = n - len(run.phones)
    if missing > 0:
        log(f"  joining {missing} more phones")
        more = await run.join(missing)
        for i, p in enumerate(more):
            p.idx = len(run.phones) + i
        run.phones += more


async def burst(run: Run, n: int) -> None:
    cfg, out = run.cfg, run.out
    log(f"covote: burst, {n} phones holding their sockets cast at the same moment")
    await _enough_joined(run, n)
    await run.ensure_connected(n)
    if run.projector is None or run.projector.task is None or run.projector.task.done():
        run.projector = await Projector().connect(run.ws_url)
    proj = run.projector
    rnd = await run.f.fresh_round()
    rid = rnd["id"]
    await proj.wait_for(lambda s: bool(s["round"]) and s["round"]["id"] == rid, 10)
    await asyncio.sleep(0.5)  # the new round's snapshot reaches every phone; the room is quiet
    phones = run.phones[:n]
    for p in phones:
        p.last_acked = p.unacked = None

    shown: list[float] = []

    def all_counted(s: dict[str, Any]) -> bool:
        ok = bool(s["round"]) and s["round"]["id"] == rid and s["turnout"]["voted"] >= n
        if ok and not shown:
            shown.append(perf())  # in the projector's reader, as the frame arrives
        return ok

    timeout = cfg.ack_timeout_s + 10
    counted = asyncio.ensure_future(proj.wait_for(all_counted, timeout))
    meter = Meter(run.proc)
    t0 = perf()
    # Released at once: every phone's cast is under way before any ack can be read.
    sent = await asyncio.gather(
        *(p.send_cast(rid, *run.marks.get(p.idx)) for p in phones), return_exceptions=True
    )
    released = perf() - t0
    pairs = [
        (p, s[2]) for p, s in zip(phones, sent, strict=True) if not isinstance(s, BaseException)
    ]
    errors = len(sent) - len(pairs)
    acked: list[float] = []
    try:
        async with asyncio.timeout(timeout):
            results = await asyncio.gather(*(f for _, f in pairs), return_exceptions=True)
        for (p, _), res in zip(pairs, results, strict=True):
            if isinstance(res, float):
                acked.append(res)
                p.acked()
            else:
                errors += 1
        await counted
    except TimeoutError:
        run.notes.append(f"burst {n}: timed out after {timeout:g} s waiting for acks/projector")
    win = meter.stop()
    run.phases[f"burst-{n}"] = (meter.t0, meter.t0 + win.wall)
    await run.check_round(rid, phones)
    key = f"burst_{n}"
    out[f"{key}_s"] = round(shown[0] - t0, 3) if shown else None
    out[f"{key}_ack_s"] = round(max(acked) - t0, 3) if len(acked) == n else None
    out[f"{key}_release_s"] = round(released, 3)
    out[f"{key}_errors"] = errors
    out[f"{key}_server_cpu_s"] = round(win.server_cpu, 3)
    out.setdefault("burst_sizes", []).append(n)
    log(
        f"  projector showed all {n} counted after {out[f'{key}_s']} s; every phone acked "
        f"after {out[f'{key}_ack_s']} s ({len(acked)} acks, {errors} errors; the client took "
        f"{released * 1e3:.0f} ms to send them all); {win.server_cpu:.2f} s server CPU"
    )
    run.window_note(f"burst {n}", win)
    if errors:
        run.notes.append(f"burst {n}: {errors} casts refused, failed or unacknowledged")
