"""What one answer read of people's data, collected where it is read and handed over once the answer is built.

A model whose rows describe people notes each row read while a request is being answered (``note_read``,
called from its ``from_db``: every page, API read, action and export that loads such a row, whatever view
it is and whatever it does with it). ``AnswerReadsMiddleware`` opens the collection around the view and the
rendering of its answer and hands what was read, with the request and the answer, to the one handler an app
registered (``set_answer_reads_handler``: the access trail). A streamed answer (an export) is handed over
piece by piece as it is sent, so a long export neither holds every id in memory nor records rows it never
sent. Outside a request (workers, commands) nothing is collected and noting costs one lookup.

``config`` knows neither the apps nor the trail: it only collects ``(kind, item)`` pairs. Its API pages read
one row more than they show (to know whether another page follows): ``page_of_rows`` forgets that row.
"""

from collections.abc import Callable, Iterator
from contextvars import ContextVar

# How many items a streamed answer collects before they are handed over.
STREAMED_HAND_OVER_EVERY = 1000

_collecting: ContextVar[dict | None] = ContextVar("answer_reads", default=None)
_handler: list[Callable] = []


def collecting() -> bool:
    """Whether a request's answer is being built (and reads are noted)."""
    return _collecting.get() is not None


def note_read(kind: str, item, *, row=None) -> None:
    """``item`` (a hashable id) of ``kind`` was read for the answer under way, if any, from ``row`` (the
    object read, so that ``page_of_rows`` can forget it again)."""
    reads = _collecting.get()
    if reads is not None:
        reads.setdefault(kind, {})[item] = row


def page_of_rows(read: Callable[[], list]) -> list:
    """``read()`` reads rows and returns those the answer shows: a page, read with one row more to learn
    whether another page follows. What the rows it read but does not show noted is forgotten."""
    reads = _collecting.get()
    if reads is None:
        return read()
    noted_before = {kind: set(items) for kind, items in reads.items()}
    page = read()
    shown = {id(row) for row in page or ()}
    for kind, items in reads.items():
        earlier = noted_before.get(kind, ())
        for item in [item for item, row in items.items() if item not in earlier and row is not None]:
            if id(items[item]) not in shown:
                del items[item]
    return page


def set_answer_reads_handler(handler: Callable) -> None:
    """``handler(request, response, reads)`` receives ``{kind: [item, ...]}`` (never empty) after each answer,
    and after each part of a streamed one."""
    _handler[:] = [handler]


class AnswerReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reads: dict = {}
        token = _collecting.set(reads)
        try:
            response = self.get_response(request)
        finally:
            _collecting.reset(token)
        if response.streaming and not getattr(response, "is_async", False):
            parts = iter(response.streaming_content)
            response.streaming_content = _handed_over_while_streaming(request, response, parts, reads)
        else:
            _hand_over(request, response, reads)
        return response


def _hand_over(request, response, reads: dict) -> None:
    if reads and _handler:
        taken = {kind: list(items) for kind, items in reads.items()}
        reads.clear()
        _handler[0](request, response, taken)


def _handed_over_while_streaming(request, response, content: Iterator, reads: dict) -> Iterator:
    try:
        while True:
            token = _collecting.set(reads)
            try:
                part = next(content, _END)
            finally:
                _collecting.reset(token)
            if part is _END:
                break
            if sum(len(items) for items in reads.values()) >= STREAMED_HAND_OVER_EVERY:
                _hand_over(request, response, reads)
            yield part
    finally:
        _hand_over(request, response, reads)


_END = object()
