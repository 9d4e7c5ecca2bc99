"""The account decider on its own: pure functions, no store."""

from __future__ import annotations

import hypothesis
import pytest
from hypothesis import strategies as st

from cqrskit.core.errors import Conflict, Invalid, NotFound, RuleViolated
from cqrskit.testing.deciders import Given, given
from examples.bank import domain as d

OPENED = d.AccountOpened("a1", "alice", "2026-01-01T00:00:00.000000Z")


def state(*events: object) -> d.Account:
    return d.account_decider.fold(events)


def account(*history: object) -> Given[d.Account]:
    return given(d.account_decider, OPENED, *history)


def test_a_deposit_raises_the_balance() -> None:
    account().when(d.Deposit("a1", 500)).then(d.MoneyDeposited("a1", 500, 500))


def test_no_withdrawal_beyond_the_balance() -> None:
    funded = account(d.MoneyDeposited("a1", 500, 500))
    funded.when(d.Withdraw("a1", 501)).then_raises(
        RuleViolated, match="holds 500 cents, less than 501"
    )
    funded.when(d.Withdraw("a1", 500)).then(d.MoneyWithdrawn("a1", 500, 0))


def test_sending_needs_the_money_too() -> None:
    account().when(d.SendMoney("a1", "t1", "b1", 1)).then_raises(RuleViolated)


@pytest.mark.parametrize("amount", [0, -5])
def test_amounts_are_positive(amount: int) -> None:
    account().when(d.Deposit("a1", amount)).then_raises(Invalid)


def test_a_missing_account_refuses_everything_but_opening() -> None:
    given(d.account_decider).when(d.Deposit("a1", 5)).then_raises(NotFound)
    opening = d.OpenAccount("a1", "bob", "2026-01-02T00:00:00Z")
    account().when(opening).then_raises(Conflict)


def test_only_an_empty_account_closes_and_then_takes_nothing() -> None:
    account(d.MoneyDeposited("a1", 1, 1)).when(d.CloseAccount("a1")).then_raises(
        RuleViolated, match="still holds 1 cents"
    )
    account().when(d.CloseAccount("a1")).then(d.AccountClosed("a1"))
    closed = account(d.AccountClosed("a1"))
    closed.when(d.ReceiveMoney("a1", "t1", "b1", 5)).then_raises(
        RuleViolated, match="closed"
    )


def test_a_transfer_id_is_used_once() -> None:
    record = d.RecordTransfer("t1", "a1", "b1", 5, "2026-01-01T00:00:00Z")
    made = d.TransferMade("t1", "a1", "b1", 5, "2026-01-01T00:00:00Z")
    given(d.transfer_decider).when(record).then(made)
    given(d.transfer_decider, made).when(record).then_raises(Conflict)


ACCOUNTS = ["a", "b", "c"]
moves = st.lists(
    st.tuples(
        st.sampled_from(["deposit", "withdraw", "transfer"]),
        st.sampled_from(ACCOUNTS),
        st.sampled_from(ACCOUNTS),
        st.integers(min_value=1, max_value=1_000),
    ),
    max_size=60,
)


@hypothesis.given(moves)
def test_money_is_neither_made_nor_lost(
    script: list[tuple[str, str, str, int]],
) -> None:
    """Whatever is tried, in any order: no balance below zero, and the sum
    of the balances is what was paid in less what was taken out."""
    accounts = {
        a: state(d.AccountOpened(a, "owner", "2026-01-01T00:00:00Z")) for a in ACCOUNTS
    }
    paid_in = taken_out = 0
    for kind, one, other, amount in script:
        try:
            if kind == "deposit":
                events = {one: d.decide(d.Deposit(one, amount), accounts[one])}
            elif kind == "withdraw":
                events = {one: d.decide(d.Withdraw(one, amount), accounts[one])}
            elif one != other:
                events = {
                    one: d.decide(d.SendMoney(one, "t", other, amount), accounts[one]),
                    other: d.decide(
                        d.ReceiveMoney(other, "t", one, amount), accounts[other]
                    ),
                }
            else:
                continue
        except RuleViolated:
            continue  # refused as a whole: nothing of it applies
        for account, new in events.items():
            accounts[account] = d.account_decider.fold(new, accounts[account])
        paid_in += amount if kind == "deposit" else 0
        taken_out += amount if kind == "withdraw" else 0
    assert all(a.balance_cents >= 0 for a in accounts.values())
    assert sum(a.balance_cents for a in accounts.values()) == paid_in - taken_out
