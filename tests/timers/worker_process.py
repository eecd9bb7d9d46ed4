"""A timer worker in its own process, for the multi-process tests.

python -m tests.timers.worker_process URL {fast|slow} [MARKER]

`test_timed` is the service operator on the fixture's timer path: fast records an audit event;
slow creates MARKER (so the test knows the firing transaction is open) and then sleeps, to be killed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from tasks.registry import service_task


def main() -> None:
    url, mode = sys.argv[1], sys.argv[2]
    marker = Path(sys.argv[3]) if len(sys.argv) > 3 else None

    @service_task("test_timed")
    def test_timed(ctx):
        """Test operator on the timer path."""
        if mode == "slow":
            marker.write_text("firing", encoding="utf-8")
            time.sleep(60)
        ctx.audit("test:timed_service_called")
        return {"ok": True}

    from app import create_app
    from app.timers.worker import TimerWorker

    app = create_app({"DATABASE_URL": url, "TESTING": True})
    with app.app_context():
        worker = TimerWorker(app.extensions["database"], app.extensions["engine"], name=f"test-{mode}")
        fired = worker.run_once()
    print(json.dumps({"fired": fired, "conflicts": worker.stats.conflicts}), flush=True)


if __name__ == "__main__":
    main()
