"""The one CSV writer behind every export (event log, erasure log, contacts).

Files open cleanly in a spreadsheet set to Brazilian Portuguese: UTF-8 with a byte-order mark, so Excel
does not read them as Windows-1252. A cell that a spreadsheet would run as a formula (CSV injection: it
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading apostrophe, which
spreadsheets show as text and hide.
"""

import csv
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.http import StreamingHttpResponse

BYTE_ORDER_MARK = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard_formula(text: str) -> str:
    """``text`` as a spreadsheet will show it, never run it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell_text(value: Any) -> str:
    """A value as one CSV cell: empty for None, ISO-8601 for times, guarded text for everything else."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return guard_formula(str(value))


class _Echo:
    """A file-like object whose ``write`` hands back the line (the csv module's streaming recipe)."""

    def write(self, value):
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]], *, cell: Callable[[Any], str] = cell_text):
    """The file's lines: BOM and header first, then one line per row, every cell through ``cell``."""
    writer = csv.writer(_Echo())
    yield BYTE_ORDER_MARK + writer.writerow([guard_formula(str(name)) for name in header])
    for row in rows:
        yield writer.writerow([cell(value) for value in row])


def csv_response(
    *, filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], cell: Callable[[Any], str] = cell_text
) -> StreamingHttpResponse:
    """A streamed CSV download; ``rows`` may be a generator over a large queryset."""
    return StreamingHttpResponse(
        csv_lines(header, rows, cell=cell),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
