"""Bank accounts: one stream per account (`account-{id}`).

A transfer is one command that writes two streams: the money leaves one
account and reaches the other in the same append, or not at all. The
invariant it keeps across streams: no balance goes below zero, and money is
neither made nor lost between accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from cqrskit.core.decider import Decider
from cqrskit.core.errors import Conflict, Invalid, NotFound, RuleViolated


@dataclass(frozen=True, slots=True)
class OpenAccount:
    account_id: str
    owner_id: str
    opened_at: str


@dataclass(frozen=True, slots=True)
class Deposit:
    account_id: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class Withdraw:
    account_id: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class SendMoney:
    """The paying half of a transfer."""

    account_id: str
    transfer_id: str
    to_account: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class ReceiveMoney:
    """The receiving half of a transfer."""

    account_id: str
    transfer_id: str
    from_account: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class CloseAccount:
    account_id: str


@dataclass(frozen=True, slots=True)
class AccountOpened:
    account_id: str
    owner_id: str
    opened_at: str


@dataclass(frozen=True, slots=True)
class MoneyDeposited:
    account_id: str
    amount_cents: int
    balance_cents: int


@dataclass(frozen=True, slots=True)
class MoneyWithdrawn:
    account_id: str
    amount_cents: int
    balance_cents: int


@dataclass(frozen=True, slots=True)
class MoneySent:
    account_id: str
    transfer_id: str
    to_account: str
    amount_cents: int
    balance_cents: int


@dataclass(frozen=True, slots=True)
class MoneyReceived:
    account_id: str
    transfer_id: str
    from_account: str
    amount_cents: int
    balance_cents: int


@dataclass(frozen=True, slots=True)
class AccountClosed:
    account_id: str


@dataclass(frozen=True, slots=True)
class RecordTransfer:
    transfer_id: str
    from_account: str
    to_account: str
    amount_cents: int
    made_at: str


@dataclass(frozen=True, slots=True)
class TransferMade:
    transfer_id: str
    from_account: str
    to_account: str
    amount_cents: int
    made_at: str


EVENTS = (
    TransferMade,
    AccountOpened,
    MoneyDeposited,
    MoneyWithdrawn,
    MoneySent,
    MoneyReceived,
    AccountClosed,
)


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str = ""
    owner_id: str = ""
    balance_cents: int = 0
    exists: bool = False
    closed: bool = False


def account_stream(account_id: str) -> str:
    return f"account-{account_id}"


def evolve(state: Account, event: Any) -> Account:
    match event:
        case AccountOpened(account_id=account_id, owner_id=owner_id):
            return Account(account_id, owner_id, exists=True)
        case MoneyDeposited() | MoneyWithdrawn() | MoneySent() | MoneyReceived():
            return replace(state, balance_cents=event.balance_cents)
        case AccountClosed():
            return replace(state, closed=True)
    return state


def decide(command: Any, state: Account) -> list[Any]:
    match command:
        case OpenAccount():
            if state.exists:
                raise Conflict(f"account {command.account_id} already exists")
            return [
                AccountOpened(command.account_id, command.owner_id, command.opened_at)
            ]
        case CloseAccount():
            _require_open(state, command.account_id)
            if state.balance_cents != 0:
                raise RuleViolated(
                    f"account {command.account_id} still holds "
                    f"{state.balance_cents} cents; empty it first"
                )
            return [AccountClosed(command.account_id)]
    return _move(command, state)


def _move(command: Any, state: Account) -> list[Any]:
    """Deposits, withdrawals and the two halves of a transfer."""
    _require_open(state, command.account_id)
    amount = command.amount_cents
    if amount <= 0:
        raise Invalid("amount_cents must be a positive number of cents")
    match command:
        case Deposit():
            return [
                MoneyDeposited(command.account_id, amount, state.balance_cents + amount)
            ]
        case ReceiveMoney():
            balance = state.balance_cents + amount
            return [
                MoneyReceived(
                    command.account_id,
                    command.transfer_id,
                    command.from_account,
                    amount,
                    balance,
                )
            ]
        case Withdraw():
            balance = _debit(state, amount)
            return [MoneyWithdrawn(command.account_id, amount, balance)]
        case SendMoney():
            balance = _debit(state, amount)
            return [
                MoneySent(
                    command.account_id,
                    command.transfer_id,
                    command.to_account,
                    amount,
                    balance,
                )
            ]
    raise TypeError(f"not an account command: {command!r}")


def _debit(state: Account, amount: int) -> int:
    if amount > state.balance_cents:
        raise RuleViolated(
            f"account {state.account_id} holds {state.balance_cents} cents, "
            f"less than {amount}"
        )
    return state.balance_cents - amount


def _require_open(state: Account, account_id: str) -> None:
    if not state.exists:
        raise NotFound(f"account {account_id} does not exist")
    if state.closed:
        raise RuleViolated(f"account {account_id} is closed")


account_decider: Decider[Account] = Decider(Account(), evolve, decide, name="account")


def transfer_stream(transfer_id: str) -> str:
    return f"transfer-{transfer_id}"


def _decide_transfer(command: RecordTransfer, made: bool) -> list[Any]:
    """A transfer is recorded once: its id cannot be used again."""
    if made:
        raise Conflict(f"transfer {command.transfer_id} already exists")
    if command.from_account == command.to_account:
        raise Invalid("a transfer needs two different accounts")
    return [
        TransferMade(
            command.transfer_id,
            command.from_account,
            command.to_account,
            command.amount_cents,
            command.made_at,
        )
    ]


transfer_decider: Decider[bool] = Decider(
    False,
    lambda made, event: made or isinstance(event, TransferMade),
    _decide_transfer,
    name="transfer",
)
