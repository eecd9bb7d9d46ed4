"""Case-page benchmark: the clinician's case page of a long chat against a fresh one.

case_page_ms        Median server time to render the case page (`GET /cases/<id>`, the Flask test
                    client signed in as the unit's nurse, the page's access-log row committed) of a
                    started chat case with 1,000 chat messages and 20 contact attempts.
case_page_ms_fresh  The same for a fresh case: just started, one message, no attempts.
case_page_ratio     case_page_ms / case_page_ms_fresh; target ≤ 1.2 (the page shows only the latest
                    page of the chat, so the history must not cost).

Both cases are real chat cases through the services on processes/ (submit → receive → start); the
long case's history is bulk-inserted exactly as bench/chat.py's history benchmark does (messages in
turns, the last one the nurse's, attempts spread over two days). Renders are interleaved (fresh,
long, long, fresh, ...) and medians are taken over ≥ 200 renders each, after a warm-up. Every
render must answer 200 and the long page must show only the latest page of messages.
"""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta

from app.casework.page import PAGE_SIZE
from bench.chat import T0, BenchClock, CareWorld, HistoryBench, _ms
from bench.setup import make_app

_MESSAGE = re.compile(rb'id="msg-\d+"')


def run(renders: int = 240, *, warmup: int = 20, messages: int = 1_000, attempts: int = 20) -> dict:
    app = make_app()
    bench_clock = BenchClock(T0 - timedelta(days=3))  # after create_app: it installs the system clock
    world = CareWorld(app)
    bench_clock.clock.set(T0)
    world.staff_at_work()
    try:
        history = HistoryBench(world, bench_clock, messages=messages, attempts=attempts)
        cases = {"fresh": history.fresh_case(), "long": history.long_case()}
        long_messages, long_attempts = world.history(cases["long"])
        client = app.test_client()
        with client.session_transaction() as browser:
            browser["user_id"], browser["unit_id"] = world.nurse.user_id, world.nurse.unit_id
        samples: dict[str, list[float]] = {"fresh": [], "long": []}
        shown: dict[str, int] = {}
        for n in range(warmup + renders):
            order = ("fresh", "long") if n % 2 == 0 else ("long", "fresh")
            for kind in order:
                started = time.perf_counter()
                response = client.get(f"/cases/{cases[kind]}")
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise AssertionError(f"the {kind} case page answered {response.status_code}")
                shown[kind] = len(_MESSAGE.findall(response.data))
                if n >= warmup:
                    samples[kind].append(elapsed)
        if shown["long"] != PAGE_SIZE:
            raise AssertionError(
                f"the long case page showed {shown['long']} messages, not the latest {PAGE_SIZE}"
            )
        fresh, long = statistics.median(samples["fresh"]), statistics.median(samples["long"])
        return {
            "case_page_ms": _ms(long),
            "case_page_ms_fresh": _ms(fresh),
            "case_page_ratio": round(long / fresh, 3),
            "case_page_renders": renders,
            "case_page_long_messages": long_messages,
            "case_page_long_attempts": long_attempts,
        }
    finally:
        world.dispose()
        bench_clock.close()


if __name__ == "__main__":
    import json

    print(json.dumps(run(), sort_keys=True))
