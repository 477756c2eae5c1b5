"""What every log line carries besides its message: the request id, and the webhook event and provider it
is about, held in a context variable for the request (or the event being applied) and added to each record
by ``ContextFilter``. With ``LOG_FORMAT=json`` each record is one JSON object per line (python-json-logger)
holding only the fields below: nothing a library attaches to a record (a request object, its query
string) gets into a line by accident. Messages themselves carry ids, counts and error classes only."""

import contextlib
import contextvars
import re
import uuid

from pythonjsonlogger.json import JsonFormatter

CONTEXT_FIELDS = ("request_id", "event_id", "provider")
JSON_FIELDS = ("timestamp", "level", "logger", "message", *CONTEXT_FIELDS, "exc_info", "stack_info")
# A request id we are handed is kept only if it looks like one (a proxy's UUID or token), else we make one.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")

_context: contextvars.ContextVar[dict] = contextvars.ContextVar("log_context", default={})  # noqa: B039


def current() -> dict:
    return _context.get()


@contextlib.contextmanager
def log_context(**values):
    """Add ``values`` (of CONTEXT_FIELDS) to every record logged inside the block."""
    token = _context.set({**_context.get(), **values})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**values) -> None:
    """Add ``values`` until the enclosing ``log_context`` (the request's) ends."""
    _context.set({**_context.get(), **values})


class ContextFilter:
    """Gives every record the context fields (None when unknown), so any formatter can name them."""

    def filter(self, record) -> bool:
        values = _context.get()
        for name in CONTEXT_FIELDS:
            if not hasattr(record, name):
                setattr(record, name, values.get(name))
        return True


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line with exactly JSON_FIELDS (those that have a value)."""

    def __init__(self, **kwargs):
        super().__init__(
            "%(levelname)s %(name)s %(message)s %(request_id)s %(event_id)s %(provider)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
            **kwargs,
        )

    def process_log_record(self, log_data):
        return {name: log_data[name] for name in JSON_FIELDS if log_data.get(name) is not None}


class RequestIdMiddleware:
    """Takes the request id from ``X-Request-Id`` (a proxy's), or makes one; logs carry it, and so does the
    response, so a caller can quote it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supplied = request.headers.get("X-Request-Id", "")
        request_id = supplied if REQUEST_ID_PATTERN.fullmatch(supplied) else uuid.uuid4().hex
        with log_context(request_id=request_id):
            response = self.get_response(request)
        response["X-Request-Id"] = request_id
        return response
