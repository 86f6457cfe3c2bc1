"""JSON from outside, nested no deeper than any real body: a body of 100,000 `[` made
Python's parser raise RecursionError, which was a 500.

The request hook answers 400 before any parser (webargs, Flask's get_json, a schema's
json.loads of a form field) reads the body; `loads_json` is for JSON inside a field.
"""
import json

from flask import abort, request

MAX_JSON_DEPTH = 64  # a deal with custom fields is 2 deep; nothing we read comes near 64
TOO_DEEP = "The JSON body is nested too deeply."


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
    """Before every request: a JSON body nested too deeply is a 400 with the one error
    shape. Invalid JSON is left to the parser that reads the body (also a 400)."""
    if not request.is_json:
        return
    body = request.get_data(cache=True)
    if not _could_be_too_deep(body, MAX_JSON_DEPTH):
        return
    try:
        loads_json(body)
    except JsonTooDeep:
        abort(400, description=TOO_DEEP)
    except ValueError:  # not JSON at all (or not UTF-8): the parser that reads it says so
        return
