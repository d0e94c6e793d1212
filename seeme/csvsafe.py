"""The one CSV writer: every CSV this server produces goes through ``write_csv`` /
``csv_text``, which neutralise cells a spreadsheet would run as a formula.

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
prefixed with ``'`` (OWASP's advice for CSV injection); numbers are written as they are, so a
negative count stays a number.
"""

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(out: Any, rows: Iterable[Iterable[Any]]) -> None:
    """Write ``rows`` to the file-like ``out`` (a response, a StringIO ...), neutralised."""
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    """``rows`` as CSV text, neutralised."""
    out = io.StringIO()
    write_csv(out, rows)
    return out.getvalue()
