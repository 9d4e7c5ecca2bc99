import pytest

from cqrskit.core.errors import Conflict, Invalid, NotFound, RuleViolated
from cqrskit.shop.domain.catalog import (
    AddProduct,
    ChangePrice,
    DiscontinueProduct,
    PriceChanged,
    ProductAdded,
    ProductDiscontinued,
    ProductRenamed,
    RenameProduct,
    product_decider,
)
from cqrskit.testing import given

MUG = ProductAdded("SKU-1", "Mug", 1200, "A white mug", "kitchen")
DISCONTINUED = ProductDiscontinued("SKU-1")


def test_adding_a_product_records_every_field() -> None:
    given(product_decider).when(
        AddProduct("SKU-1", "Mug", 1200, "A white mug", "kitchen")
    ).then(MUG)


def test_adding_a_product_that_exists_is_a_conflict() -> None:
    given(product_decider, MUG).when(AddProduct("SKU-1", "Cup", 900)).then_raises(
        Conflict, match="SKU-1 already exists"
    )


def test_adding_a_discontinued_product_again_is_a_conflict() -> None:
    given(product_decider, MUG, DISCONTINUED).when(
        AddProduct("SKU-1", "Mug", 1200)
    ).then_raises(Conflict)


@pytest.mark.parametrize("price", [0, -1, -1200])
def test_adding_a_product_without_a_positive_price_is_invalid(price: int) -> None:
    given(product_decider).when(AddProduct("SKU-1", "Mug", price)).then_raises(
        Invalid, match="price_cents"
    )


def test_changing_the_price_records_the_previous_one() -> None:
    given(product_decider, MUG).when(ChangePrice("SKU-1", 1500)).then(
        PriceChanged("SKU-1", 1500, 1200)
    )


def test_a_second_price_change_starts_from_the_first() -> None:
    given(product_decider, MUG, PriceChanged("SKU-1", 1500, 1200)).when(
        ChangePrice("SKU-1", 1800)
    ).then(PriceChanged("SKU-1", 1800, 1500))


@pytest.mark.parametrize(
    ("history", "current"),
    [((MUG,), 1200), ((MUG, PriceChanged("SKU-1", 1500, 1200)), 1500)],
    ids=["as-added", "as-changed"],
)
def test_setting_the_current_price_decides_nothing(
    history: tuple[object, ...], current: int
) -> None:
    given(product_decider, *history).when(ChangePrice("SKU-1", current)).then_nothing()


@pytest.mark.parametrize("price", [0, -5])
def test_changing_to_a_non_positive_price_is_invalid(price: int) -> None:
    given(product_decider, MUG).when(ChangePrice("SKU-1", price)).then_raises(
        Invalid, match="price_cents"
    )


def test_renaming_records_the_new_name() -> None:
    given(product_decider, MUG).when(RenameProduct("SKU-1", "Big mug")).then(
        ProductRenamed("SKU-1", "Big mug")
    )


def test_renaming_to_the_current_name_decides_nothing() -> None:
    given(product_decider, MUG).when(RenameProduct("SKU-1", "Mug")).then_nothing()


def test_renaming_to_the_name_of_an_earlier_rename_decides_nothing() -> None:
    given(product_decider, MUG, ProductRenamed("SKU-1", "Big mug")).when(
        RenameProduct("SKU-1", "Big mug")
    ).then_nothing()


def test_discontinuing_records_it() -> None:
    given(product_decider, MUG).when(DiscontinueProduct("SKU-1")).then(DISCONTINUED)


def test_discontinuing_twice_decides_nothing() -> None:
    given(product_decider, MUG, DISCONTINUED).when(
        DiscontinueProduct("SKU-1")
    ).then_nothing()


@pytest.mark.parametrize(
    "command",
    [
        ChangePrice("SKU-9", 1500),
        RenameProduct("SKU-9", "Jug"),
        DiscontinueProduct("SKU-9"),
    ],
    ids=lambda command: type(command).__name__,
)
def test_commands_on_a_missing_product_are_not_found(command: object) -> None:
    given(product_decider).when(command).then_raises(
        NotFound, match="SKU-9 does not exist"
    )


@pytest.mark.parametrize(
    "command",
    [ChangePrice("SKU-1", 1500), RenameProduct("SKU-1", "Jug")],
    ids=lambda command: type(command).__name__,
)
def test_a_discontinued_product_cannot_change(command: object) -> None:
    given(product_decider, MUG, DISCONTINUED).when(command).then_raises(
        RuleViolated, match="SKU-1 is discontinued"
    )
