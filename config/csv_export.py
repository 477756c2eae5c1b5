"""The one CSV writer behind every export (event log, erasure log, contacts).

Files open cleanly in the reader's spreadsheet: UTF-8 with a byte-order mark, so Excel does not read them
as Windows-1252; cells separated by ``;`` where the decimal separator is a comma (Brazilian Portuguese:
Excel there splits on ``;``), by ``,`` elsewhere; column titles in the reader's language except English,
where they stay the API's field names. A cell that a spreadsheet would run as a formula (CSV injection: it
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading apostrophe.
"""

import csv
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.http import StreamingHttpResponse
from django.utils.formats import get_format
from django.utils.translation import get_language

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


def reader_delimiter() -> str:
    """``;`` for readers whose numbers have a decimal comma (their spreadsheet's list separator), else ``,``."""
    return ";" if get_format("DECIMAL_SEPARATOR") == "," else ","


def column_titles(model, names: Sequence[str]) -> list[str]:
    """The columns' titles: the field names (the API's) in English, the fields' names in the reader's language
    otherwise; a name that is not a field of ``model`` as it is."""
    if (get_language() or "en").startswith("en"):
        return list(names)
    titles = []
    for name in names:
        try:
            titles.append(str(model._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:
            titles.append(name)
    return titles


class _Echo:
    """A file-like object whose ``write`` hands back the line (the csv module's streaming recipe)."""

    def write(self, value):
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]], *, cell: Callable[[Any], str] = cell_text,
              delimiter: str = ","):  # fmt: skip
    """The file's lines: BOM and header first, then one line per row, every cell through ``cell``."""
    writer = csv.writer(_Echo(), delimiter=delimiter)
    yield BYTE_ORDER_MARK + writer.writerow([guard_formula(str(name)) for name in header])
    for row in rows:
        yield writer.writerow([cell(value) for value in row])


def csv_response(
    *, filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], cell: Callable[[Any], str] = cell_text
) -> StreamingHttpResponse:
    """A streamed CSV download; ``rows`` may be a generator over a large queryset. The separator is the
    reader's, chosen now: the lines are written after the view has returned."""
    return StreamingHttpResponse(
        csv_lines(header, rows, cell=cell, delimiter=reader_delimiter()),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
