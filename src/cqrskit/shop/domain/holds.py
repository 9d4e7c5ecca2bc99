"""What each order holds of a SKU's stock, as an immutable value that a long
stream folds in linear time and a snapshot restores without rebuilding.

A best-selling SKU's inventory stream grows by one reservation per order for
as long as the shop runs, and its state remembers every order's hold (an
order may release only what it holds). Copying that map per event made a
fold quadratic. Here the map a snapshot held (`base`, read-only) stays as it
was read, and what changed since sits on top in a persistent map (a HAMT,
`immutables.Map`): each event shares all but a few nodes with the value
before it, O(log n) per event, and loading a snapshot builds nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from immutables import Map

_EMPTY: Mapping[str, int] = MappingProxyType({})


class Holds:
    __slots__ = ("_base", "_changes")

    def __init__(
        self, base: Mapping[str, int] = _EMPTY, changes: Map[str, int] | None = None
    ) -> None:
        self._base = base
        self._changes: Map[str, int] = Map() if changes is None else changes

    @classmethod
    def restore(cls, held: dict[str, int]) -> Holds:
        """Holds over a snapshot's map, which the caller hands over."""
        return cls(MappingProxyType(held))

    def get(self, order_id: str) -> int:
        held = self._changes.get(order_id)
        return self._base.get(order_id, 0) if held is None else held

    def add(self, order_id: str, delta: int) -> Holds:
        held = self.get(order_id) + delta
        return Holds(self._base, self._changes.set(order_id, held))

    def as_dict(self) -> dict[str, int]:
        """Every order that holds something (O(n): for snapshots and tests)."""
        merged = {**self._base, **self._changes}
        return {order: held for order, held in merged.items() if held}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Holds) and self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash(frozenset(self.as_dict().items()))

    def __repr__(self) -> str:
        return f"Holds({self.as_dict()!r})"
