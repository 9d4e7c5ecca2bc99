"""Progress of rebuild and verify: the total, the share done and the time
left; a bar redrawn in place on a terminal, plain lines elsewhere."""

from __future__ import annotations

from cqrskit.runtime.progress import Progress


def test_a_plain_line_names_the_total_and_the_time_left() -> None:
    lines: list[str] = []
    progress = Progress(lines.append, head=20_000, interval=0)
    progress._started -= 2.0  # two seconds in

    progress(5_000, 5_000)

    (line,) = lines
    assert "log position 5,000 of 20,000 (25%)" in line
    assert "2,500/s" in line
    assert line.endswith("6 s left"), line  # 15,000 more at 2,500 a second


def test_without_a_head_it_counts_and_does_not_guess() -> None:
    lines: list[str] = []
    progress = Progress(lines.append, interval=0)

    progress(10, 10)

    assert "of" not in lines[0] and "left" not in lines[0]


def test_on_a_terminal_one_line_is_redrawn_and_ended_once() -> None:
    drawn: list[str] = []
    printed: list[str] = []
    progress = Progress(
        printed.append, head=100, live=True, interval=0, draw=drawn.append
    )

    progress(50, 50)
    progress(100, 100)
    progress.finish()
    progress.finish()

    assert printed == []
    assert [d[:1] for d in drawn] == ["\r", "\r", "\n"]
    assert "[############------------]" in drawn[0]
    assert "[########################]" in drawn[1] and "(100%)" in drawn[1]


def test_lines_come_at_most_once_per_interval() -> None:
    lines: list[str] = []
    progress = Progress(lines.append, head=1_000, interval=3600)

    for done in range(1, 1_000):
        progress(done, done)

    assert len(lines) == 1
    assert progress.done == 999
