"""gunicorn settings for production: `gunicorn wsgi:app` reads this file."""

import multiprocessing
import os

bind = os.environ.get("LOYALTY_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("LOYALTY_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "sync"
timeout = 30
graceful_timeout = 30
keepalive = 5
accesslog = None  # the app logs each request as a JSON line with its request id


def child_exit(server, worker):
    # With PROMETHEUS_MULTIPROC_DIR set, a dead worker's gauges must be dropped.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
