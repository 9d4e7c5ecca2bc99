import pytest

from cqrskit.core.errors import Conflict, NotFound, RuleViolated
from cqrskit.shop.domain.orders import (
    CancelOrder,
    OrderCancelled,
    OrderLine,
    OrderPlaced,
    OrderShipped,
    PaymentAuthorization,
    PaymentDeclined,
    PlaceOrder,
    RecordDeclinedPayment,
    ShipOrder,
    order_decider,
    price_line,
)
from cqrskit.testing import given

LINES = (price_line("SKU-1", "Mug", 2, 1200), price_line("SKU-2", "Tea", 3, 450))
PAYMENT = PaymentAuthorization("auth-1", 3750, "4242")
PLACE = PlaceOrder("o1", "alice", "c1", LINES, PAYMENT, "2024-05-01T10:00:00Z")
PLACED = OrderPlaced("o1", "alice", "c1", LINES, 3750, PAYMENT, "2024-05-01T10:00:00Z")
DECLINE = RecordDeclinedPayment(
    "o1", "alice", "c1", 3750, "0002", "insufficient funds", "2024-05-01T09:59:00Z"
)
DECLINED = PaymentDeclined(
    "o1", "alice", "c1", 3750, "0002", "insufficient funds", "2024-05-01T09:59:00Z"
)
SHIP = ShipOrder("o1", "2024-05-02T08:00:00Z")
SHIPPED = OrderShipped("o1", "2024-05-02T08:00:00Z")
CANCEL = CancelOrder("o1", "changed my mind", "2024-05-01T12:00:00Z")
CANCELLED = OrderCancelled("o1", "changed my mind", "2024-05-01T12:00:00Z", LINES)


def test_a_priced_line_totals_quantity_times_unit_price() -> None:
    assert price_line("SKU-1", "Mug", 3, 1200) == OrderLine(
        "SKU-1", "Mug", 3, 1200, 3600
    )


def test_placing_an_order_totals_its_lines() -> None:
    given(order_decider).when(PLACE).then(PLACED)


@pytest.mark.parametrize(
    ("lines", "total"),
    [
        ((price_line("SKU-1", "Mug", 1, 999),), 999),
        (LINES, 2 * 1200 + 3 * 450),
        ((*LINES, price_line("SKU-3", "Pot", 4, 2500)), 2400 + 1350 + 10_000),
    ],
    ids=["one-line", "two-lines", "three-lines"],
)
def test_the_total_is_the_sum_of_the_line_totals(
    lines: tuple[OrderLine, ...], total: int
) -> None:
    payment = PaymentAuthorization("auth-1", total, "4242")
    given(order_decider).when(
        PlaceOrder("o1", "alice", "c1", lines, payment, "t")
    ).then(OrderPlaced("o1", "alice", "c1", lines, total, payment, "t"))


def test_an_order_without_lines_is_refused() -> None:
    command = PlaceOrder("o1", "alice", "c1", (), PAYMENT, "t")
    given(order_decider).when(command).then_raises(
        RuleViolated, match="at least one line"
    )


@pytest.mark.parametrize(
    "history",
    [(PLACED,), (PLACED, SHIPPED), (PLACED, CANCELLED), (DECLINED, PLACED)],
    ids=["placed", "shipped", "cancelled", "placed-after-decline"],
)
def test_placing_an_order_twice_is_a_conflict(history: tuple[object, ...]) -> None:
    given(order_decider, *history).when(PLACE).then_raises(
        Conflict, match="o1 was already placed"
    )


def test_a_declined_payment_is_recorded_as_an_event() -> None:
    given(order_decider).when(DECLINE).then(DECLINED)


def test_a_declined_payment_can_be_followed_by_a_successful_one() -> None:
    given(order_decider, DECLINED).when(PLACE).then(PLACED)


def test_a_second_decline_is_recorded_too() -> None:
    given(order_decider, DECLINED).when(DECLINE).then(DECLINED)


def test_a_decline_after_placement_is_a_conflict() -> None:
    given(order_decider, PLACED).when(DECLINE).then_raises(Conflict)


def test_shipping_a_placed_order_records_it() -> None:
    given(order_decider, PLACED).when(SHIP).then(SHIPPED)


def test_cancelling_a_placed_order_carries_its_lines() -> None:
    given(order_decider, PLACED).when(CANCEL).then(CANCELLED)


def test_cancelling_carries_the_lines_of_the_placement_not_of_a_decline() -> None:
    other = (price_line("SKU-3", "Pot", 1, 2500),)
    placed = OrderPlaced("o1", "alice", "c1", other, 2500, PAYMENT, "t")
    given(order_decider, DECLINED, placed).when(CANCEL).then(
        OrderCancelled("o1", "changed my mind", "2024-05-01T12:00:00Z", other)
    )


@pytest.mark.parametrize("history", [(), (DECLINED,)], ids=["new", "only-declined"])
@pytest.mark.parametrize("command", [SHIP, CANCEL], ids=["ship", "cancel"])
def test_an_order_never_placed_is_not_found(
    history: tuple[object, ...], command: object
) -> None:
    given(order_decider, *history).when(command).then_raises(
        NotFound, match="o1 does not exist"
    )


@pytest.mark.parametrize(
    ("history", "command", "message"),
    [
        ((PLACED, SHIPPED), SHIP, "o1 is shipped; it cannot be shipped"),
        ((PLACED, CANCELLED), SHIP, "o1 is cancelled; it cannot be shipped"),
        ((PLACED, SHIPPED), CANCEL, "o1 is shipped; it cannot be cancelled"),
        ((PLACED, CANCELLED), CANCEL, "o1 is cancelled; it cannot be cancelled"),
    ],
    ids=["ship-twice", "ship-cancelled", "cancel-shipped", "cancel-twice"],
)
def test_only_a_placed_order_can_be_shipped_or_cancelled(
    history: tuple[object, ...], command: object, message: str
) -> None:
    given(order_decider, *history).when(command).then_raises(
        RuleViolated, match=message
    )
