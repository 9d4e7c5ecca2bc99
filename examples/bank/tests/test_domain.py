"""The account decider on its own: pure functions, no store."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cqrskit.core.errors import Conflict, Invalid, NotFound, RuleViolated
from examples.bank import domain as d

OPENED = d.AccountOpened("a1", "alice", "2026-01-01T00:00:00.000000Z")


def state(*events: object) -> d.Account:
    return d.account_decider.fold(events)


def test_a_deposit_raises_the_balance() -> None:
    events = d.decide(d.Deposit("a1", 500), state(OPENED))
    assert events == [d.MoneyDeposited("a1", 500, 500)]


def test_no_withdrawal_beyond_the_balance() -> None:
    funded = state(OPENED, d.MoneyDeposited("a1", 500, 500))
    with pytest.raises(RuleViolated, match="holds 500 cents, less than 501"):
        d.decide(d.Withdraw("a1", 501), funded)
    assert d.decide(d.Withdraw("a1", 500), funded) == [d.MoneyWithdrawn("a1", 500, 0)]


def test_sending_needs_the_money_too() -> None:
    with pytest.raises(RuleViolated):
        d.decide(d.SendMoney("a1", "t1", "b1", 1), state(OPENED))


@pytest.mark.parametrize("amount", [0, -5])
def test_amounts_are_positive(amount: int) -> None:
    with pytest.raises(Invalid):
        d.decide(d.Deposit("a1", amount), state(OPENED))


def test_a_missing_account_refuses_everything_but_opening() -> None:
    with pytest.raises(NotFound):
        d.decide(d.Deposit("a1", 5), state())
    with pytest.raises(Conflict):
        d.decide(d.OpenAccount("a1", "bob", "2026-01-02T00:00:00Z"), state(OPENED))


def test_only_an_empty_account_closes_and_then_takes_nothing() -> None:
    funded = state(OPENED, d.MoneyDeposited("a1", 1, 1))
    with pytest.raises(RuleViolated, match="still holds 1 cents"):
        d.decide(d.CloseAccount("a1"), funded)
    closed = state(OPENED, d.AccountClosed("a1"))
    with pytest.raises(RuleViolated, match="closed"):
        d.decide(d.ReceiveMoney("a1", "t1", "b1", 5), closed)


def test_a_transfer_id_is_used_once() -> None:
    record = d.RecordTransfer("t1", "a1", "b1", 5, "2026-01-01T00:00:00Z")
    made = d.transfer_decider.fold(d.transfer_decider.decide(record, False))
    with pytest.raises(Conflict):
        d.transfer_decider.decide(record, made)


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


@given(moves)
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
