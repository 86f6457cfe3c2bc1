"""JSON from outside that Python's parser cannot take: a body of 100,000 `[` made it raise
RecursionError, and an integer of more than 4,300 digits a ValueError (Python's limit on
int-from-string conversion); both were a 500, the second even without signing in.

The request hook answers 400 before any parser (webargs, Flask's get_json, a schema's
json.loads of a form field) reads the body; `loads_json` is for JSON inside a field.
Most bodies are not parsed by it at all: only one a cheap scan finds suspicious (many
brackets, or a long run of digits).
"""
import json
import re
import sys

from flask import abort, request

MAX_JSON_DEPTH = 64  # a deal with custom fields is 2 deep; nothing we read comes near 64
TOO_DEEP = "The JSON body is nested too deeply."
NOT_JSON = "The request body is not valid JSON."  # the parsers' own answer (app.core.error_pages)


class JsonTooDeep(ValueError):
    pass


def json_depth(value, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply arrays and objects nest in a parsed value (counting stops past `limit`).
    A loop, not recursion, so it cannot itself run out of stack."""
    deepest, pending = 0, [(value, 1)]
    while pending and deepest <= limit:
        item, level = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children)
    return deepest


def _could_be_too_deep(text: str | bytes, limit: int) -> bool:
    """Cheap: fewer opening brackets than the limit cannot nest past it (most bodies)."""
    opening = (b"[", b"{") if isinstance(text, bytes) else ("[", "{")
    return text.count(opening[0]) + text.count(opening[1]) > limit


def _has_long_number(text: str | bytes) -> bool:
    """Cheap: a run of digits longer than Python converts to an int (0: no limit)."""
    limit = sys.get_int_max_str_digits()
    if not limit or len(text) <= limit:
        return False
    # Only from the start of a run (the lookbehind): linear, where a plain [0-9]{n} would
    # rescan every run from each of its digits.
    pattern = rf"(?<![0-9])[0-9]{{{limit + 1}}}"
    return re.search(pattern.encode() if isinstance(text, bytes) else pattern, text) is not None


def loads_json(text: str | bytes, limit: int = MAX_JSON_DEPTH):
    """json.loads, but nesting past `limit` raises JsonTooDeep (a ValueError) instead of
    a RecursionError or a value too deep for the code that walks it."""
    if not _could_be_too_deep(text, limit):
        return json.loads(text)
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonTooDeep(TOO_DEEP) from None
    if json_depth(value, limit) > limit:
        raise JsonTooDeep(TOO_DEEP)
    return value


def reject_deep_json() -> None:
    """Before every request: a JSON body Python's parser cannot take (nested too deeply, a
    number too long to convert) is a 400 with the one error shape. Other invalid JSON is
    left to the parser that reads the body (also a 400, with NOT_JSON)."""
    if not request.is_json:
        return
    body = request.get_data(cache=True)
    if not (_could_be_too_deep(body, MAX_JSON_DEPTH) or _has_long_number(body)):
        return
    try:
        loads_json(body)
    except JsonTooDeep:
        abort(400, description=TOO_DEEP)
    except (ValueError, RecursionError):  # incl. "Exceeds the limit (4300 digits)", bad UTF-8
        abort(400, description=NOT_JSON)
