"""A timer worker process for the benchmark: runs until SIGTERM, then writes its firings as JSON.

python -m bench.timer_worker DATABASE_URL OUTPUT_JSON
"""

from __future__ import annotations

import json
import signal
import sys

from app import create_app
from app.timers.worker import TimerWorker


def main() -> None:
    url, output = sys.argv[1], sys.argv[2]
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        worker = TimerWorker(
            app.extensions["database"],
            app.extensions["engine"],
            name="bench",
            record_firings=True,
            max_idle_s=1.0,
        )
        signal.signal(signal.SIGTERM, lambda *_: worker.stop())
        worker.run_forever()
    with open(output, "w", encoding="utf-8") as out:
        json.dump(
            {
                "firings": worker.stats.firings,
                "conflicts": worker.stats.conflicts,
                "failures": worker.stats.failures,
            },
            out,
        )


if __name__ == "__main__":
    main()
