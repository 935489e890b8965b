"""Recent scheduled job runs for admins: what the `loyalty scheduler` recorded in `job_runs`."""
