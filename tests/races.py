"""Racing two actions on PostgreSQL, each in its own transaction, deterministically.

The first racer waits just past its check (a test patches a function it calls there to call
`Meeting.wait`) until the other is past the check too — which only happens when nothing serialises
them — or is held at a row lock. With the lock the second waits for the first and then sees its
result; without it both pass their checks before either writes.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import text


class Meeting:
    """Where the first racer waits: until the second arrives too, or someone waits for a row lock."""

    def __init__(self, database):
        self.database, self.arrived = database, set()

    def wait(self) -> None:
        self.arrived.add(threading.get_ident())
        deadline = time.monotonic() + 10
        while len(self.arrived) < 2 and not self._someone_waits_for_a_lock():
            assert time.monotonic() < deadline, "the other racer neither passed its check nor waited"
            time.sleep(0.02)

    def _someone_waits_for_a_lock(self) -> bool:
        with self.database.engine.connect() as connection:
            return bool(
                connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
            )


def race(database, meeting: Meeting, first, second) -> list[str]:
    """Run `first` until it is past its check, then `second`; "ok" or the exception's class name each."""
    results = ["", ""]

    def run(index, action):
        try:
            with database.transaction() as session:
                action(session)
            results[index] = "ok"
        except Exception as exc:  # noqa: BLE001 - the outcome is the test's subject
            results[index] = type(exc).__name__

    threads = [threading.Thread(target=run, args=pair) for pair in ((0, first), (1, second))]
    threads[0].start()
    deadline = time.monotonic() + 10
    while not meeting.arrived and time.monotonic() < deadline:
        time.sleep(0.01)
    threads[1].start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def at_once(database, *calls, describe=lambda error: type(error).__name__) -> list[str]:
    """Start every call at once, each in its own transaction (the test makes them meet where it
    wants, e.g. with a threading.Barrier); "ok" or `describe(error)` for each, sorted."""
    outcomes: list[str] = []

    def run(call):
        try:
            with database.transaction() as session:
                call(session)
            outcomes.append("ok")
        except Exception as error:  # noqa: BLE001 - the outcome is the test's subject
            outcomes.append(describe(error))

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)
