"""Folding is linear and chunkable: a state folded from a snapshot or a cached
state plus the events after it equals the state folded from the start."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cqrskit.shop.domain.inventory import (
    StockAdded,
    StockReleased,
    StockReserved,
    dump_stock,
    inventory_decider,
    load_stock,
)

orders = st.sampled_from([f"o{n}" for n in range(6)])
stock_events = st.lists(
    st.one_of(
        st.builds(StockAdded, sku=st.just("S"), quantity=st.integers(1, 9)),
        st.builds(
            StockReserved, sku=st.just("S"), quantity=st.integers(1, 9), order_id=orders
        ),
        st.builds(
            StockReleased, sku=st.just("S"), quantity=st.integers(1, 9), order_id=orders
        ),
    ),
    max_size=60,
)


def reference(events: list[Any]) -> tuple[int, int, dict[str, int]]:
    """An independent fold with plain mutable values."""
    available = reserved = 0
    held: dict[str, int] = {}
    for e in events:
        sign = {StockAdded: 0, StockReserved: 1, StockReleased: -1}[type(e)]
        available += e.quantity if sign == 0 else -sign * e.quantity
        reserved += sign * e.quantity
        if sign:
            held[e.order_id] = held.get(e.order_id, 0) + sign * e.quantity
    return available, reserved, {k: v for k, v in held.items() if v}


@given(stock_events, st.lists(st.integers(0, 60), max_size=4))
def test_folding_in_chunks_equals_folding_at_once(
    events: list[Any], cuts: list[int]
) -> None:
    whole = inventory_decider.fold(events)
    state = inventory_decider.initial_state
    bounds = [0, *sorted(c for c in cuts if c <= len(events)), len(events)]
    for start, end in pairwise(bounds):
        state = inventory_decider.fold(events[start:end], state)

    assert state == whole
    assert (whole.available, whole.reserved, whole.by_order.as_dict()) == reference(
        events
    )


@given(stock_events, st.integers(0, 60))
def test_a_snapshot_taken_midway_folds_on_to_the_same_state(
    events: list[Any], cut: int
) -> None:
    midway = inventory_decider.fold(events[:cut])
    restored = load_stock(dump_stock(midway))

    assert restored == midway
    assert inventory_decider.fold(events[cut:], restored) == inventory_decider.fold(
        events
    )
    assert restored == midway  # folding on changed nothing it started from


def test_folding_leaves_every_earlier_state_as_it_was() -> None:
    """Each state shares structure with the next, never mutated by it."""
    states = [inventory_decider.fold([StockAdded("S", 100)])]
    for n in range(50):
        states.append(
            inventory_decider.evolve(states[-1], StockReserved("S", 1, f"o{n}"))
        )

    assert all(len(s.by_order.as_dict()) == n for n, s in enumerate(states))
    assert states[10].available == 90
