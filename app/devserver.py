"""`make run`: the web server on 127.0.0.1:$PORT (default 5000), one timer worker and one notification worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from waitress import serve

from app import create_app


def _stop_like_ctrl_c(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    port = int(os.environ.get("PORT", "5000"))
    app = create_app()
    commands = {c.name for c in app.cli.commands.values()}
    # The workers are processes of their own, as in production: nothing assumes one process.
    workers = [
        subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", group, "run"], env=os.environ.copy())
        for group in ("timers", "notifications")
        if group in commands
    ]
    # SIGTERM (e.g. from `timeout` or a process manager) stops the workers too, like Ctrl+C does.
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    print(f"Vårdflöde: http://127.0.0.1:{port}/  (development login; press Ctrl+C to stop)", flush=True)
    try:
        serve(app, host="127.0.0.1", port=port, threads=8)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=10)


if __name__ == "__main__":
    main()
