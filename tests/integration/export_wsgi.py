"""wsgi:app for the gunicorn export tests, with the segment export slowed or broken by env vars:
LOYALTY_TEST_EXPORT_DELAY (seconds between batches) and LOYALTY_TEST_EXPORT_FAIL_AFTER (batches,
then the generator raises as a lost database connection would)."""

import os
import time

from loyalty import create_app
from loyalty.campaigns import export

_real_export_rows = export.export_rows


def _export_rows(session, *, segment_id, batch=2000):
    delay = float(os.environ.get("LOYALTY_TEST_EXPORT_DELAY", "0"))
    fail_after = int(os.environ.get("LOYALTY_TEST_EXPORT_FAIL_AFTER", "0"))
    for index, chunk in enumerate(_real_export_rows(session, segment_id=segment_id, batch=2)):
        if fail_after and index >= fail_after:
            raise ConnectionError("the database went away mid-export")
        yield chunk
        time.sleep(delay)


export.export_rows = _export_rows
app = create_app()
