"""CSV downloads: UTF-8 with a BOM (Excel reads it right), streamed, formula-safe."""
import csv
import io
import json
import re
from collections.abc import Iterable

from flask import Response, stream_with_context

BOM = "\ufeff"
# A cell starting with one of these is run as a formula by spreadsheet programs (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A negative amount stays a number. Anything else with a leading sign is quoted, "+1" too:
# a spreadsheet would turn a phone number such as "+44 20 7946 0958" into a formula.
NEGATIVE_NUMBER = re.compile(r"-\d+(\.\d+)?")


def safe_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES) and not NEGATIVE_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _lines(columns: list[str], rows: Iterable[dict]):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        out = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return out

    writer.writerow(columns)
    yield BOM + flush()
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) for c in columns])
        yield flush()


def csv_response(columns: list[str], rows: Iterable[dict], filename: str) -> Response:
    response = Response(stream_with_context(_lines(columns, rows)), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def single_row_csv(data: dict, filename: str) -> Response:
    """One object as one row: its scalar fields, plus the whole object in `data_json`."""
    scalar = {k: v for k, v in data.items() if not isinstance(v, (list, dict))}
    row = dict(scalar, data_json=json.dumps(data, ensure_ascii=False, default=str))
    return csv_response(list(scalar) + ["data_json"], [row], filename)


def write_csv(file, columns: list[str], rows: Iterable[dict]) -> None:
    """The same bytes csv_response streams, written to an open text file (an export job's)."""
    for chunk in _lines(columns, rows):
        file.write(chunk)
