"""gunicorn settings for production: `gunicorn wsgi:app` reads this file.

Threaded workers (gthread): a sync worker serves one connection at a time, so two clients
that send their headers or body slowly stall every other request. A gthread worker's main
loop waits for a request's first bytes without a thread, and each request then has a thread
of its own; everything per worker (key cache, settings caches, rate-limit counters, sessions
per request) is thread-safe. `timeout` is the heartbeat of the worker's main loop, not a
limit per request, so a long CSV export that keeps streaming is not cut off.
"""

import multiprocessing
import os

bind = os.environ.get("LOYALTY_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("LOYALTY_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "gthread"
# Requests in flight per worker; a slow client holds one thread while it sends, the others go on.
threads = int(os.environ.get("LOYALTY_THREADS", "16"))
timeout = 30
graceful_timeout = 30
keepalive = 5
accesslog = None  # the app logs each request as a JSON line with its request id


def when_ready(server):
    # Counting in memory with several workers multiplies the limit by the number of workers.
    from loyalty.core.ratelimit import warn_if_per_worker

    warn_if_per_worker(workers=server.cfg.workers)


def child_exit(server, worker):
    # With PROMETHEUS_MULTIPROC_DIR set, a dead worker's gauges must be dropped.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
