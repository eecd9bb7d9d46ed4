"""`python -m bench`: run every benchmark and print one JSON object on the last line."""

from __future__ import annotations

import json
import os
import sys

from bench import case_page, chat, steps, timers, worklist


def main() -> None:
    pg_url = os.environ.get("TEST_DATABASE_URL") or None
    results: dict = {}
    print("bench: step cost (bare SpiffWorkflow vs served, interleaved) ...", file=sys.stderr, flush=True)
    results.update(steps.run(pg_url=pg_url))
    print(
        "bench: one clinician action on a 1,000-message chat case vs a fresh one (interleaved) ...",
        file=sys.stderr,
        flush=True,
    )
    results.update(chat.run_history())
    print(
        "bench: case page on a 1,000-message case vs a fresh one, under load ...", file=sys.stderr, flush=True
    )
    results.update(case_page.run())
    print("bench: patient list render over 2,000 open cases ...", file=sys.stderr, flush=True)
    results.update(worklist.run(pg_url=pg_url))
    print(
        "bench: whole chat cases, served (SQLite"
        + (", PostgreSQL" if pg_url else "")
        + ") vs bare SpiffWorkflow (interleaved) ...",
        file=sys.stderr,
        flush=True,
    )
    results.update(chat.run_cases(pg_url=pg_url))
    print("bench: timers on 2 worker processes (PostgreSQL) ...", file=sys.stderr, flush=True)
    results.update(timers.run(pg_url))
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
