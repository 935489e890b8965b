"""Benchmarks behind `make bench`: real gunicorn workers, real PostgreSQL, load from wrk."""
