"""The bank's command handlers through the kit's real dispatcher, over the
in-memory event store: what each command appends, stream by stream."""

from __future__ import annotations

from datetime import UTC, datetime

from cqrskit.core.dispatcher import Dispatcher
from cqrskit.core.errors import NotFound, RuleViolated
from cqrskit.testing import given_streams
from cqrskit.testing.handlers import CONTEXT
from examples.bank import domain as d
from examples.bank.app import app
from examples.bank.commands import BankCommands

NOW = datetime(2026, 1, 1, tzinfo=UTC)
AT = "2026-01-01T00:00:00.000000Z"
ALICE: list[object] = [
    d.AccountOpened("a", "alice", AT),
    d.MoneyDeposited("a", 100, 100),
]
BOB: list[object] = [d.AccountOpened("b", "bob", AT)]


def bank(dispatcher: Dispatcher) -> BankCommands:
    return BankCommands(dispatcher, clock=lambda: NOW, new_id=lambda: "new")


async def test_a_transfer_writes_its_record_and_both_halves_at_once() -> None:
    history = {"account-a": ALICE, "account-b": BOB}
    await (
        given_streams(app.codec, history)
        .when(lambda dispatcher: bank(dispatcher).transfer(CONTEXT, "a", "b", 60, "t1"))
        .then(
            {
                "transfer-t1": [d.TransferMade("t1", "a", "b", 60, AT)],
                "account-a": [d.MoneySent("a", "t1", "b", 60, 40)],
                "account-b": [d.MoneyReceived("b", "t1", "a", 60, 60)],
            }
        )
    )


async def test_a_refused_half_refuses_the_whole_transfer() -> None:
    history = {"account-a": ALICE, "account-b": BOB}
    await (
        given_streams(app.codec, history)
        .when(
            lambda dispatcher: bank(dispatcher).transfer(CONTEXT, "a", "b", 101, None)
        )
        .then_raises(RuleViolated, match="less than 101")
    )
    await (
        given_streams(app.codec, {"account-a": ALICE})
        .when(
            lambda dispatcher: bank(dispatcher).transfer(
                CONTEXT, "a", "nobody", 1, None
            )
        )
        .then_raises(NotFound, match="nobody")
    )
