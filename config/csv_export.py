"""The one CSV writer behind every export (event log, erasure log, contacts).

Files open cleanly in the reader's spreadsheet: UTF-8 with a byte-order mark, so Excel does not read them
as Windows-1252; cells separated by ``;`` where the decimal separator is a comma (Brazilian Portuguese:
Excel there splits on ``;``), by ``,`` elsewhere; column titles in the reader's language except English,
where they stay the API's field names. Values likewise: for an English reader times stay ISO-8601 and
booleans ``True``/``False`` (what a script expects); for any other reader times are local, in the format its
spreadsheet reads (``07/12/2026 14:30:59``, the zone named once, in the time columns' titles) and booleans
are words of its language (``Sim``/``Não``). A cell that a spreadsheet would run as a formula (CSV injection:
it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading apostrophe.
"""

import csv
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, tzinfo
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.translation import get_language, gettext

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


def for_people() -> bool:
    """Whether the reader gets their language's titles and values (anyone but an English reader, who gets the
    API's names and values)."""
    return not (get_language() or "en").startswith("en")


def column_titles(model, names: Sequence[str]) -> list[str]:
    """The columns' titles: the field names (the API's) in English, the fields' names in the reader's language
    otherwise, a time column's with the zone its local times are in; a name that is not a field of ``model``
    as it is."""
    if not for_people():
        return list(names)
    zone = timezone.get_current_timezone_name()
    titles = []
    for name in names:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            titles.append(name)
            continue
        title = str(field.verbose_name)
        titles.append(f"{title} ({zone})" if isinstance(field, models.DateTimeField) else title)
    return titles


class ReaderValues:
    """Times, dates and booleans as the reader reads them, fixed when the export starts (its lines are
    written after the view has returned, when the request's language and zone are no longer active)."""

    def __init__(self):
        self.for_people = for_people()
        self.zone: tzinfo = timezone.get_current_timezone()
        self.datetime_format = get_format("DATETIME_INPUT_FORMATS")[0]
        self.date_format = get_format("DATE_INPUT_FORMATS")[0]
        self.yes, self.no = gettext("Yes"), gettext("No")

    def __call__(self, value: Any) -> Any:
        if not self.for_people:
            return value
        if isinstance(value, bool):
            return self.yes if value else self.no
        if isinstance(value, datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value, self.zone)
            return value.strftime(self.datetime_format)
        if isinstance(value, date):
            return value.strftime(self.date_format)
        return value


class _Echo:
    """A file-like object whose ``write`` hands back the line (the csv module's streaming recipe)."""

    def write(self, value):
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]], *, cell: Callable[[Any], str] = cell_text,
              delimiter: str = ",", reader: Callable[[Any], Any] = lambda value: value):  # fmt: skip
    """The file's lines: BOM and header first, then one line per row, every cell through ``reader`` (the
    reader's forms of times and booleans) and then ``cell``."""
    writer = csv.writer(_Echo(), delimiter=delimiter)
    yield BYTE_ORDER_MARK + writer.writerow([guard_formula(str(name)) for name in header])
    for row in rows:
        yield writer.writerow([cell(reader(value)) for value in row])


def csv_response(
    *, filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], cell: Callable[[Any], str] = cell_text
) -> StreamingHttpResponse:
    """A streamed CSV download; ``rows`` may be a generator over a large queryset. The separator and the
    values' forms are the reader's, chosen now: the lines are written after the view has returned."""
    return StreamingHttpResponse(
        csv_lines(header, rows, cell=cell, delimiter=reader_delimiter(), reader=ReaderValues()),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
