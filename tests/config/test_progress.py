"""config.progress: a log (cron, CI) gets whole lines, also through a management command's own output."""

from io import StringIO

from django.core.management.base import OutputWrapper

from config.progress import progress


def test_a_commands_output_gets_whole_lines_and_a_final_line_with_the_totals():
    out = StringIO()
    with progress(total=3, desc="verifying", stream=OutputWrapper(out)) as bar:
        for _ in range(3):
            bar.update()

    lines = out.getvalue().split("\n")
    assert lines[-1] == ""  # every line ends with one newline, none doubled by the wrapper
    assert all(line.startswith("verifying: ") for line in lines[:-1])
    assert lines[-2].startswith("verifying: 3/3 records [") and "records/s]" in lines[-2]


def test_nothing_is_shown_without_a_stream():
    with progress(total=3, desc="verifying", stream=None) as bar:
        bar.update(3)
    assert bar.disable
