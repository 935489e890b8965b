"""`loyalty serve --with-scheduler`: the development server with a `loyalty scheduler` child, so a demo
sees holds released, touches planned and sent and webhooks delivered without running jobs by hand.

One command, one stop: Ctrl-C or SIGTERM to the server stops the scheduler too (SIGTERM, then SIGKILL
if it hasn't gone within STOP_SECONDS), and on Linux the child asks the kernel for SIGTERM should the
server die without cleaning up (SIGKILL). The child runs in its own session, so a terminal's Ctrl-C
reaches the server only and the scheduler is stopped once, in order. If the scheduler exits by itself,
the server stops as well rather than serve a demo whose jobs silently stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

from loyalty.core.logging import get_logger

log = get_logger("loyalty.devserver")
STOP_SECONDS = 15


def scheduler_command(every_seconds: float | None) -> list[str]:
    command = [sys.executable, "-m", "loyalty.cli", "scheduler"]
    return command + (["--every-seconds", f"{every_seconds:g}"] if every_seconds else [])


PARENT_ENV = "LOYALTY_STOP_WITH_PARENT"


def stop_with_parent() -> None:
    """Called by `loyalty scheduler` at start when started here: ask the kernel for SIGTERM when the
    server dies, however it dies (Linux; elsewhere a clean stop is all there is)."""
    parent = os.environ.pop(PARENT_ENV, None)
    if not parent or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != int(parent):  # the server died before the request took hold
        os.kill(os.getpid(), signal.SIGTERM)


def start_scheduler(every_seconds: float | None) -> subprocess.Popen:
    env = {**os.environ, PARENT_ENV: str(os.getpid())}
    return subprocess.Popen(scheduler_command(every_seconds), env=env, start_new_session=True)


def stop(child: subprocess.Popen) -> int:
    """SIGTERM (the scheduler finishes the job in hand and gives the lease up), then SIGKILL."""
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning("scheduler_killed", pid=child.pid, after_seconds=STOP_SECONDS)
            child.kill()
    return child.wait()


def _interrupt(*_args: object) -> None:
    raise KeyboardInterrupt  # the development server stops on it as on Ctrl-C


def serve_with_scheduler(serve: Callable[[], None], *, every_seconds: float | None) -> None:
    """Run `serve` (blocking) with a scheduler child; both end when either does."""
    child = start_scheduler(every_seconds)
    stopping = threading.Event()
    log.info("scheduler_started_with_server", pid=child.pid, every_seconds=every_seconds)

    died: list[int] = []

    def watch() -> None:
        code = child.wait()
        if not stopping.is_set():
            log.error("scheduler_exited", pid=child.pid, returncode=code, detail="stopping the server too")
            died.append(code)
            os.kill(os.getpid(), signal.SIGTERM)

    # Both signals stop both, also when SIGINT came in ignored (a shell's background job).
    previous = {number: signal.signal(number, _interrupt) for number in (signal.SIGTERM, signal.SIGINT)}
    threading.Thread(target=watch, name="scheduler-watch", daemon=True).start()
    try:
        serve()
    except KeyboardInterrupt:
        pass
    finally:
        stopping.set()
        for number, handler in previous.items():
            signal.signal(number, handler)
        code = stop(child)
        log.info("scheduler_stopped_with_server", pid=child.pid, returncode=code)
    if died:
        raise SystemExit(1)  # a demo whose jobs stopped is not a demo: say so in the exit status
