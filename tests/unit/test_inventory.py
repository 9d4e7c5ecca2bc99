import pytest

from cqrskit.core.errors import Invalid, RuleViolated
from cqrskit.shop.domain.cart import Checkout
from cqrskit.shop.domain.inventory import (
    ReleaseStock,
    ReserveStock,
    Restock,
    StockAdded,
    StockReleased,
    StockReserved,
    inventory_decider,
)
from cqrskit.testing import given

FIVE_IN = StockAdded("SKU-1", 5)
FIVE_RESERVED = StockReserved("SKU-1", 5, "o1")


def test_restocking_adds_stock() -> None:
    given(inventory_decider).when(Restock("SKU-1", 5)).then(FIVE_IN)


def test_restocks_add_up() -> None:
    given(inventory_decider, StockAdded("SKU-1", 2), StockAdded("SKU-1", 3)).when(
        ReserveStock("SKU-1", 5, "o1")
    ).then(StockReserved("SKU-1", 5, "o1"))


@pytest.mark.parametrize(
    "command",
    [
        Restock("SKU-1", 0),
        Restock("SKU-1", -1),
        ReserveStock("SKU-1", 0, "o1"),
        ReserveStock("SKU-1", -1, "o1"),
        ReleaseStock("SKU-1", 0, "o1"),
        ReleaseStock("SKU-1", -1, "o1"),
    ],
    ids=repr,
)
def test_a_non_positive_quantity_is_invalid(command: object) -> None:
    # Ten in, five reserved: each command would otherwise have room to pass.
    given(inventory_decider, StockAdded("SKU-1", 10), FIVE_RESERVED).when(
        command
    ).then_raises(Invalid, match="quantity must be a positive")


def test_reserving_what_is_available_reserves_it() -> None:
    given(inventory_decider, FIVE_IN).when(ReserveStock("SKU-1", 5, "o1")).then(
        FIVE_RESERVED
    )


def test_reserving_more_than_available_names_the_sku_and_the_numbers() -> None:
    given(inventory_decider, FIVE_IN).when(ReserveStock("SKU-1", 6, "o1")).then_raises(
        RuleViolated, match=r"SKU-1: 5 available, 6 requested"
    )


def test_reserving_from_a_never_stocked_sku_is_refused() -> None:
    given(inventory_decider).when(ReserveStock("SKU-7", 1, "o1")).then_raises(
        RuleViolated, match=r"SKU-7: 0 available, 1 requested"
    )


def test_reservations_reduce_what_is_available() -> None:
    given(inventory_decider, FIVE_IN, StockReserved("SKU-1", 3, "o1")).when(
        ReserveStock("SKU-1", 3, "o2")
    ).then_raises(RuleViolated, match=r"SKU-1: 2 available, 3 requested")


def test_releasing_reserved_stock_releases_it() -> None:
    given(inventory_decider, FIVE_IN, FIVE_RESERVED).when(
        ReleaseStock("SKU-1", 2, "o1")
    ).then(StockReleased("SKU-1", 2, "o1"))


def test_released_stock_can_be_reserved_again() -> None:
    history = (FIVE_IN, FIVE_RESERVED, StockReleased("SKU-1", 2, "o1"))
    given(inventory_decider, *history).when(ReserveStock("SKU-1", 2, "o2")).then(
        StockReserved("SKU-1", 2, "o2")
    )
    given(inventory_decider, *history).when(ReserveStock("SKU-1", 3, "o2")).then_raises(
        RuleViolated, match=r"2 available, 3 requested"
    )


def test_releasing_more_than_is_reserved_is_refused() -> None:
    given(inventory_decider, FIVE_IN, StockReserved("SKU-1", 3, "o1")).when(
        ReleaseStock("SKU-1", 4, "o1")
    ).then_raises(RuleViolated, match="cannot release more SKU-1 than is reserved")


def test_releasing_what_was_already_released_is_refused() -> None:
    given(
        inventory_decider, FIVE_IN, FIVE_RESERVED, StockReleased("SKU-1", 5, "o1")
    ).when(ReleaseStock("SKU-1", 1, "o1")).then_raises(RuleViolated)


def test_a_command_of_another_stream_is_refused_as_a_type_error() -> None:
    given(inventory_decider).when(Checkout("c1", "o1")).then_raises(
        TypeError, match="not an inventory command"
    )


def test_an_order_releases_only_what_it_reserved() -> None:
    given(
        inventory_decider,
        FIVE_IN,
        StockReserved("SKU-1", 2, "o1"),
        StockReserved("SKU-1", 3, "o2"),
    ).when(ReleaseStock("SKU-1", 3, "o1")).then_raises(
        RuleViolated, match="reserved for order o1"
    )


def test_an_order_that_reserved_nothing_releases_nothing() -> None:
    given(inventory_decider, FIVE_IN, FIVE_RESERVED).when(
        ReleaseStock("SKU-1", 1, "o2")
    ).then_raises(RuleViolated)
