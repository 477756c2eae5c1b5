"""Progress of a long command (pruning, reprocessing, a full verification): tqdm's bar with its rate and
time left on a terminal, and the same figures as plain whole lines, now and then, when the output is a log
(cron, CI, systemd), where a bar redrawn with carriage returns would arrive as one garbled line."""

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
            self._ema_dt = lambda: None  # the final line gives the overall rate, as tqdm's own does
            self.display()
        self.leave = False  # the final line is written: nothing for tqdm to add
        super().close()


def progress(*, total: int | None, desc: str, stream, unit: str = "records") -> tqdm:
    """A progress display on ``stream`` (a file, or a management command's ``self.stderr``; None shows
    nothing); call ``update(n)`` as work is done and ``close()`` (or use it as a context manager) at the end."""
    if stream is None:
        return tqdm(total=total, disable=True)
    # A command's OutputWrapper appends a newline to every write, which would break the bar's redraws.
    stream = getattr(stream, "_out", stream)
    if stream.isatty():
        return tqdm(total=total, desc=desc, unit=unit, file=stream, dynamic_ncols=True)
    return PlainLines(
        total=total, desc=desc, unit=unit, file=stream, mininterval=PLAIN_INTERVAL_SECONDS, bar_format=PLAIN_FORMAT
    )
