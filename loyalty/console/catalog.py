"""The console's translation catalogs: find the strings, compile the .po files, check they are whole.

    python -m loyalty.console.catalog missing   # strings with no Chinese yet, and in which file
    python -m loyalty.console.catalog compile   # .po -> .mo for every area (the .mo files are committed)

Each page area has its own catalog, translations/<area>/zh_Hans/LC_MESSAGES/messages.po; Flask-Babel
merges them, so a string needs a translation in one of them.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

CONSOLE = Path(__file__).resolve().parent
TRANSLATIONS = CONSOLE / "translations"
LOCALE = "zh_Hans"
_METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
_KEYWORDS = {"_": None, "gettext": None, "L": None, "lazy_gettext": None, "ngettext": (1, 2)}


def used_strings() -> dict[str, list[str]]:
    """Every translatable string of the console, with where it is used."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(CONSOLE),
        method_map=_METHODS,
        keywords=_KEYWORDS,
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, []).append(f"{filename}:{lineno}")
    return found


def po_files() -> list[Path]:
    return sorted(TRANSLATIONS.glob(f"*/{LOCALE}/LC_MESSAGES/messages.po"))


def read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=LOCALE)


def translated() -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in po_files():
        for message in read(path):
            if message.id and message.string and not message.fuzzy:
                keys = message.id if isinstance(message.id, (tuple, list)) else (message.id,)  # singular, plural
                value = message.string[0] if isinstance(message.string, (tuple, list)) else message.string
                if value:
                    for key in keys:
                        merged.setdefault(key, value)
    return merged


def missing() -> dict[str, list[str]]:
    done = translated()
    return {text: where for text, where in used_strings().items() if text not in done}


def compiled(path: Path) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, read(path))
    return buffer.getvalue()


def compile_all() -> list[Path]:
    written = []
    for path in po_files():
        target = path.with_suffix(".mo")
        data = compiled(path)
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
            written.append(target)
    return written


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "missing"
    if command == "compile":
        for path in compile_all():
            print(f"wrote {path.relative_to(CONSOLE)}")
        return 0
    if command == "missing":
        gaps = missing()
        for text, where in sorted(gaps.items()):
            print(f"{where[0]}\t{text!r}")
        print(f"{len(gaps)} strings without a translation")
        return 1 if gaps else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
