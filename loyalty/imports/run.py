"""One import run: open the file, check its header, hand it to the kind's importer, report.

Each kind is a module with `COLUMNS` (the header names it knows) and
`run_import(*, db, config, source, rejects, progress) -> Outcome`, which streams `source`
(loyalty.imports.source.CsvSource) into the database in batches, sends every bad row to
`rejects.add(row, reason)`, shows `progress.show(outcome)` as it goes, and returns the counts.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TextIO

from loyalty.config import Config
from loyalty.core.db import Database
from loyalty.imports.rejects import RejectFile, default_path
from loyalty.imports.report import EXIT_CANNOT_START, ImportProgress, summary
from loyalty.imports.source import CannotStart, CsvSource

KINDS = ("members", "orders")


def run(
    kind: str, path: str | Path, *, rejects_path: str | Path | None, config: Config, out: TextIO, err: TextIO
) -> int:
    importer = importlib.import_module(f"loyalty.imports.{kind}")
    try:
        source = CsvSource(path, allowed=frozenset(importer.COLUMNS))
    except CannotStart as error:
        err.write(f"import {kind}: {error}; nothing was imported\n")
        return EXIT_CANNOT_START
    rejects = RejectFile(rejects_path or default_path(path), source.columns)
    progress = ImportProgress(f"import {kind}", stream=err)
    database = Database.from_config(config)
    try:
        outcome = importer.run_import(db=database, config=config, source=source, rejects=rejects, progress=progress)
    except CannotStart as error:
        progress.close()
        err.write(f"import {kind}: {error}\n")
        return EXIT_CANNOT_START
    finally:
        source.close()
        rejects.close()
        database.dispose()
    progress.close()
    out.write(
        summary(f"import {kind}", outcome, progress.elapsed(), str(rejects.path), unit=getattr(importer, "COUNTED", ""))
        + "\n"
    )
    return outcome.exit_code
