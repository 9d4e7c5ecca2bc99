import pytest

from cqrskit.core.errors import Conflict, Invalid, NotFound, RuleViolated
from cqrskit.shop.domain.cart import (
    MAX_LINE_QUANTITY,
    AddItem,
    CartCheckedOut,
    CartCreated,
    ChangeQuantity,
    Checkout,
    CreateCart,
    ItemAdded,
    ItemRemoved,
    Line,
    QuantityChanged,
    RemoveItem,
    cart_decider,
)
from cqrskit.testing import given

CREATED = CartCreated("c1", "alice")
TWO_MUGS = ItemAdded("c1", "SKU-1", 2, "Mug", 1200)
CHECKED_OUT = CartCheckedOut("c1", "o1")


def add_mugs(quantity: int) -> AddItem:
    return AddItem("c1", "SKU-1", quantity, "Mug", 1200)


def test_creating_a_cart_records_its_customer() -> None:
    given(cart_decider).when(CreateCart("c1", "alice")).then(CREATED)


@pytest.mark.parametrize(
    "history",
    [(CREATED,), (CREATED, TWO_MUGS, CHECKED_OUT)],
    ids=["open", "checked-out"],
)
def test_creating_a_cart_that_exists_is_a_conflict(history: tuple[object, ...]) -> None:
    given(cart_decider, *history).when(CreateCart("c1", "bob")).then_raises(
        Conflict, match="c1 already exists"
    )


@pytest.mark.parametrize(
    "command",
    [
        add_mugs(1),
        ChangeQuantity("c1", "SKU-1", 3),
        RemoveItem("c1", "SKU-1"),
        Checkout("c1", "o1"),
    ],
    ids=lambda command: type(command).__name__,
)
def test_commands_on_a_missing_cart_are_not_found(command: object) -> None:
    given(cart_decider).when(command).then_raises(NotFound, match="c1 does not exist")


@pytest.mark.parametrize(
    "command",
    [
        add_mugs(1),
        ChangeQuantity("c1", "SKU-1", 3),
        RemoveItem("c1", "SKU-1"),
        Checkout("c1", "o2"),
    ],
    ids=lambda command: type(command).__name__,
)
def test_commands_on_a_checked_out_cart_are_refused(command: object) -> None:
    given(cart_decider, CREATED, TWO_MUGS, CHECKED_OUT).when(command).then_raises(
        RuleViolated, match="c1 is already checked out"
    )


def test_adding_an_item_records_the_price_seen() -> None:
    given(cart_decider, CREATED).when(add_mugs(2)).then(TWO_MUGS)


def test_adding_to_an_existing_line_accumulates_its_quantity() -> None:
    scenario = given(
        cart_decider, CREATED, TWO_MUGS, ItemAdded("c1", "SKU-1", 3, "Mug", 1200)
    )
    assert scenario.state.lines == (Line("SKU-1", "Mug", 5, 1200),)
    scenario.when(ChangeQuantity("c1", "SKU-1", 5)).then_nothing()


def test_accumulated_quantity_is_held_to_the_line_maximum() -> None:
    nearly_full = ItemAdded("c1", "SKU-1", MAX_LINE_QUANTITY - 1, "Mug", 1200)
    given(cart_decider, CREATED, nearly_full).when(add_mugs(1)).then(
        ItemAdded("c1", "SKU-1", 1, "Mug", 1200)
    )
    given(cart_decider, CREATED, nearly_full).when(add_mugs(2)).then_raises(
        Invalid, match="quantity must be between 1 and"
    )


def test_lines_of_different_skus_are_kept_apart() -> None:
    tea = ItemAdded("c1", "SKU-2", 4, "Tea", 450)
    state = given(cart_decider, CREATED, TWO_MUGS, tea).state
    assert state.lines == (Line("SKU-1", "Mug", 2, 1200), Line("SKU-2", "Tea", 4, 450))


@pytest.mark.parametrize("quantity", [0, -1, MAX_LINE_QUANTITY + 1])
def test_adding_a_new_line_with_a_quantity_out_of_range_is_invalid(
    quantity: int,
) -> None:
    given(cart_decider, CREATED).when(add_mugs(quantity)).then_raises(
        Invalid, match="quantity must be between 1 and"
    )


@pytest.mark.parametrize("quantity", [0, -1])
def test_adding_a_non_positive_quantity_to_an_existing_line_is_invalid(
    quantity: int,
) -> None:
    given(cart_decider, CREATED, TWO_MUGS).when(add_mugs(quantity)).then_raises(Invalid)


def test_changing_a_quantity_records_it() -> None:
    given(cart_decider, CREATED, TWO_MUGS).when(ChangeQuantity("c1", "SKU-1", 7)).then(
        QuantityChanged("c1", "SKU-1", 7)
    )


def test_a_changed_quantity_replaces_the_old_one() -> None:
    changed = QuantityChanged("c1", "SKU-1", 7)
    state = given(cart_decider, CREATED, TWO_MUGS, changed).state
    assert state.lines == (Line("SKU-1", "Mug", 7, 1200),)


def test_changing_to_the_same_quantity_decides_nothing() -> None:
    given(cart_decider, CREATED, TWO_MUGS).when(
        ChangeQuantity("c1", "SKU-1", 2)
    ).then_nothing()


def test_changing_a_quantity_to_zero_removes_the_line() -> None:
    given(cart_decider, CREATED, TWO_MUGS).when(ChangeQuantity("c1", "SKU-1", 0)).then(
        ItemRemoved("c1", "SKU-1")
    )


@pytest.mark.parametrize("quantity", [-1, MAX_LINE_QUANTITY + 1])
def test_changing_to_a_quantity_out_of_range_is_invalid(quantity: int) -> None:
    given(cart_decider, CREATED, TWO_MUGS).when(
        ChangeQuantity("c1", "SKU-1", quantity)
    ).then_raises(Invalid, match="between 0 and")


@pytest.mark.parametrize(
    "command",
    [ChangeQuantity("c1", "SKU-9", 3), RemoveItem("c1", "SKU-9")],
    ids=lambda command: type(command).__name__,
)
def test_commands_on_a_missing_line_are_not_found(command: object) -> None:
    given(cart_decider, CREATED, TWO_MUGS).when(command).then_raises(
        NotFound, match="no line for SKU-9"
    )


def test_removing_an_item_records_it() -> None:
    given(cart_decider, CREATED, TWO_MUGS).when(RemoveItem("c1", "SKU-1")).then(
        ItemRemoved("c1", "SKU-1")
    )


def test_a_removed_line_is_gone() -> None:
    removed = ItemRemoved("c1", "SKU-1")
    given(cart_decider, CREATED, TWO_MUGS, removed).when(
        RemoveItem("c1", "SKU-1")
    ).then_raises(NotFound)


def test_adding_again_after_removal_starts_a_fresh_line() -> None:
    history = (
        CREATED,
        TWO_MUGS,
        ItemRemoved("c1", "SKU-1"),
        ItemAdded("c1", "SKU-1", 1, "Mug", 1200),
    )
    assert given(cart_decider, *history).state.lines == (Line("SKU-1", "Mug", 1, 1200),)


def test_checking_out_records_the_order_id() -> None:
    given(cart_decider, CREATED, TWO_MUGS).when(Checkout("c1", "o1")).then(CHECKED_OUT)


@pytest.mark.parametrize(
    "history",
    [(CREATED,), (CREATED, TWO_MUGS, ItemRemoved("c1", "SKU-1"))],
    ids=["never-filled", "emptied"],
)
def test_checking_out_an_empty_cart_is_refused(history: tuple[object, ...]) -> None:
    given(cart_decider, *history).when(Checkout("c1", "o1")).then_raises(
        RuleViolated, match="c1 is empty"
    )
