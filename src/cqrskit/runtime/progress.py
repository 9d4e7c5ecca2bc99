"""Progress of a pass over the log (rebuild, verify): how far, how fast, and
how long is left, against the event store's head when the pass began.

On a terminal one line is redrawn in place with a bar; otherwise (a pipe, a
log file) a plain line is printed at most twice a second."""

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
        filled = round(WIDTH * self._share(position)) if self._head else 0
        bar = "#" * filled + "-" * (WIDTH - filled)
        return f"  [{bar}] {self.line(done, position, now).strip()}"

    def _share(self, position: int) -> float:
        return min(1.0, position / self._head) if self._head else 0.0

    def _left(self, position: int, elapsed: float) -> float | None:
        """Seconds to the head at the pace so far; None while unknown."""
        if not self._head or position <= 0:
            return None
        pace = position / elapsed
        return max(0.0, (self._head - position) / pace)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s"


def _stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
