"""Progress of long work: how far, how fast, and how long is left.

`Progress` follows a pass over the log (rebuild, verify) against the event
store's head when the pass began; `Countdown` counts steps of a known total
(the fault suite's scenarios and repetitions). On a terminal one line is
redrawn in place with a bar; otherwise (a pipe, a log file) plain lines."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

WIDTH = 24


class Progress:
    def __init__(
        self,
        out: Callable[[str], None],
        *,
        head: int = 0,
        live: bool = False,
        interval: float = 0.5,
        draw: Callable[[str], None] | None = None,
    ) -> None:
        """`head`: the log's last position when the pass began (0: unknown);
        `live`: redraw one line on a terminal through `draw` (stdout)."""
        self._out = out
        self._head = head
        self._live = live
        self._draw = draw or _stdout
        self._interval = interval
        self._started = time.monotonic()
        self._last = float("-inf")  # the first call always shows
        self._drawn = False
        self.done = 0

    def __call__(self, done: int, position: int) -> None:
        self.done = done
        now = time.monotonic()
        if now - self._last < self._interval:
            return
        self._last = now
        if self._live:
            self._draw("\r" + self.bar(done, position, now))
            self._drawn = True
        else:
            self._out(self.line(done, position, now))

    def finish(self) -> None:
        """End the redrawn line, so that what follows starts on its own."""
        if self._drawn:
            self._draw("\n")
            self._drawn = False

    def line(self, done: int, position: int, now: float) -> str:
        elapsed = max(now - self._started, 1e-9)
        text = f"  {done:,} events applied, log position {position:,}"
        if self._head:
            text += f" of {self._head:,} ({self._share(position):.0%})"
        text += f", {done / elapsed:,.0f}/s"
        left = self._left(position, elapsed)
        return text + (f", {_duration(left)} left" if left is not None else "")

    def bar(self, done: int, position: int, now: float) -> str:
        line = self.line(done, position, now).strip()
        return f"  [{_bar(self._share(position))}] {line}"

    def _share(self, position: int) -> float:
        return min(1.0, position / self._head) if self._head else 0.0

    def _left(self, position: int, elapsed: float) -> float | None:
        """Seconds to the head at the pace so far; None while unknown."""
        if not self._head or position <= 0:
            return None
        pace = position / elapsed
        return max(0.0, (self._head - position) / pace)


class Countdown:
    """Steps of a known total: a line (or the bar, redrawn) per step, with
    the share done and the time left at the pace so far."""

    def __init__(
        self,
        total: int,
        out: Callable[[str], None],
        *,
        live: bool = False,
        draw: Callable[[str], None] | None = None,
    ) -> None:
        self.total = total
        self.done = 0
        self._out = out
        self._live = live
        self._draw = draw or _stdout
        self._drawn = False
        self._started = time.monotonic()

    def step(self, what: str, steps: int = 1) -> None:
        """`steps` more are done (the last of them: `what`)."""
        self.done = min(self.total, self.done + steps)
        line = self.line(what, time.monotonic())
        if self._live:
            share = self.done / self.total if self.total else 1.0
            self._draw(f"\r\033[K  [{_bar(share)}] {line.strip()}")
            self._drawn = True
        else:
            self._out(line)

    def finish(self) -> None:
        if self._drawn:
            self._draw("\n")
            self._drawn = False

    def line(self, what: str, now: float) -> str:
        share = self.done / self.total if self.total else 1.0
        text = f"  {self.done} of {self.total} ({share:.0%}), {what}"
        if 0 < self.done < self.total:
            pace = (now - self._started) / self.done
            text += f", {_duration(pace * (self.total - self.done))} left"
        return text


def _bar(share: float) -> str:
    filled = round(WIDTH * share)
    return "#" * filled + "-" * (WIDTH - filled)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s"


def _stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
