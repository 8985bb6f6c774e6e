"""Demo (python -m benchlib.demo_lost_snapshot): a screen that has not yet taken the
round-closed snapshot loses it to the next turnout-only frame (app/hub.py since 164e35a)."""

import asyncio
import json

from app.hub import Hub

state = {"type": "snapshot", "round": {"id": 1, "status": "open"}, "turnout": {"voted": 0}}


def render(_mid):
    return json.loads(json.dumps(state))


async def main():
    hub = Hub(render, tick_hz=50)
    await hub.start()
    screen = await hub.join(1, None)  # a projector
    print("on join:", json.loads(await screen.take())["round"]["status"])
    await asyncio.sleep(0.1)
    while screen._snapshot is not None:  # drain the connected-count update
        await screen.take()
    state["round"]["status"] = "closed"
    hub.changed(1)  # the facilitator closes the round
    await asyncio.sleep(0.03)  # one tick: full snapshot offered, not yet taken
    state["turnout"]["voted"] = 1
    hub.changed(1)  # a late change of turnout only
    await asyncio.sleep(0.03)  # next tick: turnout-only frame offered
    frame = json.loads(await screen.take())
    print(
        "the screen now takes:",
        frame["type"],
        "- round status it will show:",
        frame.get("round", {}).get("status", "(unchanged: still 'open')"),
    )
    await hub.aclose()


asyncio.run(main())
