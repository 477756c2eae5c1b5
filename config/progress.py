"""Progress of a long command (pruning, reprocessing, a full verification): tqdm's bar with its rate and
time left on a terminal, and the same figures as plain whole lines, now and then, when the output is a log
(cron, CI, systemd), where a bar redrawn with carriage returns would arrive as one garbled line."""

from django.core.management.base import OutputWrapper
from tqdm import tqdm

# How often a log gets a line while the work goes on (one more when it ends).
PLAIN_INTERVAL_SECONDS = 30
PLAIN_FORMAT = "{desc}: {n_fmt}/{total_fmt} {unit} [{elapsed} elapsed, {remaining} left, {rate_fmt}]"


class PlainLines(tqdm):
    """tqdm's throttling and figures, each update written as a line of its own."""

    def display(self, msg=None, pos=None):
        if msg == "":  # tqdm clearing its line: a log has nothing to clear
            return False
        self.fp.write(f"{self if msg is None else msg}\n")
        self.fp.flush()
        return True

    def close(self):
        if not self.disable:
            # The final line gives the overall rate, as tqdm's own does: format_meter computes it when the
            # figures carry no (smoothed) rate.
            self.display(self.format_meter(**{**self.format_dict, "rate": None}))
        self.leave = False  # the final line is written: nothing for tqdm to add
        super().close()


class _AsWritten:
    """A command's ``OutputWrapper`` written to as a plain file: it appends a newline to every write (and
    styles it), which would break the bar's redraws."""

    def __init__(self, wrapper: OutputWrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, style_func=str, ending="")

    def flush(self) -> None:
        self.wrapper.flush()

    def isatty(self) -> bool:
        return self.wrapper.isatty()

    def __getattr__(self, name: str):
        return getattr(self.wrapper, name)  # encoding, fileno: the wrapper hands them on from its file


def progress(*, total: int | None, desc: str, stream, unit: str = "records") -> tqdm:
    """A progress display on ``stream`` (a file, or a management command's ``self.stderr``; None shows
    nothing); call ``update(n)`` as work is done and ``close()`` (or use it as a context manager) at the end."""
    if stream is None:
        return tqdm(total=total, disable=True)
    if isinstance(stream, OutputWrapper):
        stream = _AsWritten(stream)
    if stream.isatty():
        return tqdm(total=total, desc=desc, unit=unit, file=stream, dynamic_ncols=True)
    return PlainLines(
        total=total, desc=desc, unit=unit, file=stream, mininterval=PLAIN_INTERVAL_SECONDS, bar_format=PLAIN_FORMAT
    )
