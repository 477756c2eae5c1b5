"""How failures are named and retried, the same way everywhere (events, look-ups, the worker's database).

A failure is described by its class and where it was raised, never by its message, which may quote the
data that caused it (personal data must not reach logs or stored errors)."""

import random
import traceback
from pathlib import Path


class DescribableError(Exception):
    """An error whose message we wrote ourselves and know to hold no personal data: it may be shown."""


def error_class_name(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}"


def describe_failure(exc: BaseException) -> str:
    """The error class and where it was raised; the message only when it is known to hold no data."""
    name = error_class_name(exc)
    if isinstance(exc, DescribableError):
        return f"{name}: {exc}"
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        return f"{name} at {Path(last.filename).name}:{last.lineno} in {last.name}"
    return name


def backoff_seconds(attempt: int, *, base: float, cap: float, jitter: bool = False) -> float:
    """base × 2^(attempt-1) seconds, capped; with ``jitter``, a uniform draw from its upper half, so that
    retries scheduled together do not fire together."""
    delay = min(cap, base * 2 ** max(attempt - 1, 0))
    if jitter:
        return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311  (spreading retries, not secrecy)
    return delay
