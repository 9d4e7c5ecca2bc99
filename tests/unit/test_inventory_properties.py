"""Whatever commands arrive, in whatever order, stock is never lost or invented."""

from functools import reduce
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cqrskit.core.errors import Invalid, RuleViolated
from cqrskit.shop.domain.inventory import (
    ReleaseStock,
    ReserveStock,
    Restock,
    Stock,
    inventory_decider,
)

quantities = st.integers(min_value=-2, max_value=20)
order_ids = st.sampled_from(["o1", "o2", "o3"])
commands = st.lists(
    st.one_of(
        st.builds(Restock, sku=st.just("SKU-1"), quantity=quantities),
        st.builds(
            ReserveStock, sku=st.just("SKU-1"), quantity=quantities, order_id=order_ids
        ),
        st.builds(
            ReleaseStock, sku=st.just("SKU-1"), quantity=quantities, order_id=order_ids
        ),
    ),
    max_size=40,
)


def run(command: Any, state: Stock) -> Stock | None:
    """The state after `command`, or None if the decider refused it."""
    try:
        events = inventory_decider.decide(command, state)
    except (Invalid, RuleViolated):
        return None
    return reduce(inventory_decider.evolve, events, state)


@given(commands)
def test_stock_is_never_negative_and_always_adds_up_to_what_was_restocked(
    sequence: list[Any],
) -> None:
    state = inventory_decider.initial_state
    restocked = 0
    for command in sequence:
        after = run(command, state)
        if after is None:
            continue
        state = after
        if isinstance(command, Restock):
            restocked += command.quantity
        assert state.available >= 0
        assert state.reserved >= 0
        assert state.available + state.reserved == restocked


@given(commands)
def test_the_decider_refuses_exactly_what_a_simple_ledger_cannot_honour(
    sequence: list[Any],
) -> None:
    # An independent model: refusals and resulting stock must match it step by step.
    available = 0
    held: dict[str, int] = {}
    state = inventory_decider.initial_state
    for command in sequence:
        after = run(command, state)
        match command:
            case _ if command.quantity <= 0:
                honoured = False
            case Restock():
                honoured, available = True, available + command.quantity
            case ReserveStock() if command.quantity <= available:
                honoured = True
                available -= command.quantity
                held[command.order_id] = (
                    held.get(command.order_id, 0) + command.quantity
                )
            case ReleaseStock() if command.quantity <= held.get(command.order_id, 0):
                honoured = True
                available += command.quantity
                held[command.order_id] -= command.quantity
            case _:
                honoured = False
        assert (after is not None) == honoured, command
        state = state if after is None else after
        assert state.available == available
        assert state.reserved == sum(held.values())
        for order_id, quantity in held.items():
            assert state.held_by(order_id) == quantity
