"""Every export goes through one writer: UTF-8 with a BOM (Brazilian Excel), formula cells guarded."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.utils import translation

from config.web.csv_export import csv_response, guard_formula


def read(response) -> tuple[str, list[list[str]]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return text, list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.mark.parametrize("dangerous", ["=1+1", "+55 47 9999", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_cells_a_spreadsheet_would_run_as_formulas_are_guarded(dangerous):
    assert guard_formula(dangerous) == "'" + dangerous
    _text, rows = read(csv_response(filename="x.csv", header=["value"], rows=[[dangerous]]))
    assert rows[1] == ["'" + dangerous]


def test_the_file_starts_with_a_byte_order_mark_and_keeps_accents():
    response = csv_response(filename="contatos.csv", header=["nome"], rows=[["Conceição"]])
    text, rows = read(response)
    assert text.startswith("\ufeffnome")
    assert rows == [["nome"], ["Conceição"]]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="contatos.csv"'


def test_times_are_iso_8601_and_none_is_empty():
    moment = datetime(2026, 4, 19, 16, 0, tzinfo=UTC)
    _text, rows = read(csv_response(filename="x.csv", header=["a", "b", "c"], rows=[[moment, None, 7]]))
    assert rows[1] == ["2026-04-19T16:00:00+00:00", "", "7"]


def test_a_decimal_comma_reader_gets_semicolons_and_others_commas():
    with translation.override("pt-br"):
        text, _rows = read(csv_response(filename="x.csv", header=["a", "b"], rows=[["1,5", "x"]]))
    assert text == '\ufeffa;b\r\n1,5;x\r\n'
    with translation.override("en"):
        text, _rows = read(csv_response(filename="x.csv", header=["a", "b"], rows=[["1,5", "x"]]))
    assert text == '\ufeffa,b\r\n"1,5",x\r\n'
