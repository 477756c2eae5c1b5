"""Bodies as JSON objects every later step can store, redact and render again: refused when hostile
(``load_json_object``), or, for a deletion that must erase whatever it carries, read with each value no
column could store replaced (``load_json_leniently``)."""

import json
import math
import re
from typing import Any

from webhooks.providers.fields import EnvelopeError

# Deeper than any provider's envelope; a limit keeps recursive redaction and rendering safe.
MAX_JSON_DEPTH = 32


def load_json_object(body: bytes) -> dict:
    """Parse a body into a dict that every later step can store, redact and render again."""
    try:
        payload = json.loads(
            body, parse_constant=_refuse_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys
        )
    except EnvelopeError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise EnvelopeError("body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise EnvelopeError("body is not a JSON object")
    # Both checks walk the whole payload; each is skipped when the raw bytes show it cannot fail (a body
    # with at most MAX_JSON_DEPTH brackets in all cannot nest deeper than that).
    if body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH and _nesting_depth(payload) > MAX_JSON_DEPTH:
        raise EnvelopeError(f"body is nested deeper than {MAX_JSON_DEPTH} levels")
    if _may_hold_lone_surrogate(body):
        try:
            json.dumps(payload, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise EnvelopeError("body contains an unpaired Unicode surrogate") from None
    return payload


# ``\u`` then D8–DF (a false match, as in ``\\ud800``, only costs the full check).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _may_hold_lone_surrogate(body: bytes) -> bool:
    """False when no string parsed from ``body`` can hold an unpaired surrogate: the body is UTF-8 (a valid
    UTF-8 JSON text has no NUL byte, while UTF-16 and UTF-32, which ``json`` also reads, always have some),
    strictly so (``json`` itself lets a surrogate encoded raw pass), and has no surrogate escape."""
    if b"\x00" in body or _SURROGATE_ESCAPE.search(body):
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


class _Unreadable:
    """What ``load_json_leniently`` reads in place of a value no column could store: it is no id and no
    time, and redaction replaces it even under a key that keeps its value."""

    def __repr__(self) -> str:
        return "<unreadable>"


UNREADABLE = _Unreadable()


def load_json_leniently(body: bytes) -> dict:
    """Parse a body into a dict as ``load_json_object`` does, reading ``UNREADABLE`` for each value that
    could not be stored (1e400, NaN, an integer past Python's 4,300 digits, a string holding a lone
    surrogate, anything nested deeper than ``MAX_JSON_DEPTH``; a surrogate in a key becomes U+FFFD).
    Still refused: a body that is not UTF-8 JSON text, or nested deeper than the parser itself reads
    (about 1,000 levels): neither its type nor its ids can be known."""
    try:
        payload = json.loads(
            body,
            parse_constant=lambda _name: UNREADABLE,
            parse_float=_float_or_unreadable,
            parse_int=_int_or_unreadable,
            # Strings are only looked at for surrogates where the raw bytes show there may be one (an
            # erasure reads every stored copy of its contact: this is most of its time otherwise).
            object_pairs_hook=_storable_object if _may_hold_lone_surrogate(body) else None,
        )
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise EnvelopeError("body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise EnvelopeError("body is not a JSON object")
    if body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH:
        _cut_deeper_than(payload, MAX_JSON_DEPTH)
    return payload


def _float_or_unreadable(text: str) -> Any:
    value = float(text)
    return UNREADABLE if math.isinf(value) else value


def _int_or_unreadable(text: str) -> Any:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts
        return UNREADABLE


_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable_object(pairs: list[tuple[str, Any]]) -> dict:
    return {
        _SURROGATE.sub("\ufffd", key): (
            UNREADABLE if isinstance(value, str) and _SURROGATE.search(value) else value
        )
        for key, value in pairs
    }


def _cut_deeper_than(payload: dict, max_depth: int) -> None:
    """Replace, in place, every object or list deeper than ``max_depth`` (the payload is level 1)."""
    pending = [(payload, 1)]
    while pending:
        container, depth = pending.pop()
        keys = container.keys() if isinstance(container, dict) else range(len(container))
        for key in keys:
            child = container[key]
            if isinstance(child, dict | list):
                if depth + 1 > max_depth:
                    container[key] = UNREADABLE
                else:
                    pending.append((child, depth + 1))


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    """An object whose keys are all different. With a key twice, a body means two values where every
    reader keeps one: what we store would say more than what we apply, show or export to the person (the
    access export would miss a value we hold). Refused (400), naming no key: a key can be personal data.
    A deletion still erases (``load_json_leniently`` keeps the last value, and its body is rebuilt)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise EnvelopeError("body has an object with the same key twice")
    return obj


def _refuse_constant(name: str):
    raise EnvelopeError(f"body contains {name}, which JSON does not allow")


def _finite_float(text: str) -> float:
    # 1e400 reads as infinity, which no JSON column takes and no JSON answer can render.
    value = float(text)
    if math.isinf(value):
        raise EnvelopeError("body contains a number too large to store")
    return value


def _nesting_depth(value: Any) -> int:
    deepest, pending = 0, [(value, 1)]
    while pending and deepest <= MAX_JSON_DEPTH:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children)
    return deepest
