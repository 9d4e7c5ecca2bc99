"""Progress of rebuild and verify: the total, the share done and the time
left; a bar redrawn in place on a terminal, plain lines elsewhere."""

from __future__ import annotations

from cqrskit.runtime.progress import Countdown, Progress


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


def test_a_countdown_names_the_step_the_total_and_the_time_left() -> None:
    lines: list[str] = []
    countdown = Countdown(8, lines.append)
    countdown._started -= 60.0  # a minute in

    countdown.step("relay killed, repetition 1 of 2")
    countdown.step("relay killed, repetition 2 of 2")
    countdown.step("projector killed: failed", steps=2)

    assert (
        lines[1] == "  2 of 8 (25%), relay killed, repetition 2 of 2, 3 min 00 s left"
    )
    assert lines[2].startswith("  4 of 8 (50%), projector killed: failed, 1 min 00 s")
    countdown.step("the rest", steps=9)
    assert lines[-1] == "  8 of 8 (100%), the rest"  # never past the total


def test_a_countdown_on_a_terminal_redraws_its_bar() -> None:
    drawn: list[str] = []
    countdown = Countdown(4, drawn.append, live=True, draw=drawn.append)

    countdown.step("one")
    countdown.finish()

    assert drawn[0].startswith("\r\033[K  [######------------------] 1 of 4 (25%), one")
    assert drawn[1] == "\n"
