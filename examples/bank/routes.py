"""The bank's routes, as data: how each request becomes a call on
`BankCommands` or a read on `BankQueries`. The kit builds the HTTP routes,
their OpenAPI description and their access checks from these tables."""

from __future__ import annotations

from cqrskit.core.errors import Forbidden, NotFound
from cqrskit.core.routes import (
    Call,
    CommandInput,
    CommandRoute,
    Fetch,
    QueryInput,
    QueryRoute,
    id_from_path,
    id_from_stream,
)
from examples.bank import domain as d
from examples.bank import models as m
from examples.bank.commands import BankCommands
from examples.bank.queries import BankQueries

Command = CommandRoute[BankCommands]
Query = QueryRoute[BankQueries]


def _open(given: CommandInput) -> Call[BankCommands]:
    body, who = given.body_as(m.NewAccount), given.principal
    owner_id = body.owner_id or who.subject
    if owner_id != who.subject and not who.is_admin:
        raise Forbidden("a customer opens accounts only for themselves")
    return lambda bank, ctx: bank.open_account(ctx, owner_id, body.account_id)


def _deposit(given: CommandInput) -> Call[BankCommands]:
    amount = given.body_as(m.Amount).amount_cents
    command = d.Deposit(given.path["account_id"], amount)
    return lambda bank, ctx: bank.move(ctx, command)


def _withdraw(given: CommandInput) -> Call[BankCommands]:
    amount = given.body_as(m.Amount).amount_cents
    command = d.Withdraw(given.path["account_id"], amount)
    return lambda bank, ctx: bank.move(ctx, command)


def _transfer(given: CommandInput) -> Call[BankCommands]:
    body = given.body_as(m.NewTransfer)
    return lambda bank, ctx: bank.transfer(
        ctx, body.from_account, body.to_account, body.amount_cents, body.transfer_id
    )


def _close(given: CommandInput) -> Call[BankCommands]:
    account_id = given.path["account_id"]
    return lambda bank, ctx: bank.close(ctx, account_id)


def _account(given: QueryInput) -> Fetch[BankQueries]:
    return lambda bank: bank.account(given.path["account_id"], given.owner)


def _statement(given: QueryInput) -> Fetch[BankQueries]:
    q = given.query_as(m.PageQuery)
    account_id = given.path["account_id"]
    return lambda bank: bank.statement(account_id, given.owner, q.limit, q.cursor)


def _accounts_of(given: QueryInput) -> Fetch[BankQueries]:
    owner_id, q = given.path["owner_id"], given.query_as(m.PageQuery)
    if given.principal is None or not given.principal.owns(owner_id):
        raise NotFound(f"customer {owner_id} has no accounts")
    return lambda bank: bank.accounts_of(owner_id, q.limit, q.cursor)


COMMAND_ROUTES: tuple[Command, ...] = (
    Command(
        "open_account", "OpenAccount", "POST", "/accounts", _open,
        body=m.NewAccount, status=201, ids=id_from_stream("account_id"),
        problems=(403,), summary="Open an account", tag="accounts",
    ),
    Command(
        "deposit", "Deposit", "POST", "/accounts/{account_id}/deposits", _deposit,
        body=m.Amount, params=m.ACCOUNT, ids=id_from_path("account_id"),
        summary="Pay money into an account", tag="accounts",
    ),
    Command(
        "withdraw", "Withdraw", "POST", "/accounts/{account_id}/withdrawals",
        _withdraw, body=m.Amount, params=m.ACCOUNT, ids=id_from_path("account_id"),
        summary="Take money out of an account (409 if it holds less)",
        tag="accounts",
    ),
    Command(
        "transfer", "Transfer", "POST", "/transfers", _transfer,
        body=m.NewTransfer, status=201, ids=id_from_stream("transfer_id"),
        problems=(404,), summary="Move money between two accounts, both or neither",
        description="Records the transfer (its own stream, `transfer-{id}`) "
        "and both its halves in one append. 409 if the paying account holds "
        "less than the amount or the transfer id is taken; 404 if either "
        "account does not exist (or the paying one is not the caller's).",
        tag="transfers",
    ),
    Command(
        "close_account", "CloseAccount", "POST", "/accounts/{account_id}/close",
        _close, params=m.ACCOUNT, ids=id_from_path("account_id"),
        summary="Close an empty account", tag="accounts",
    ),
)  # fmt: skip

QUERY_ROUTES: tuple[Query, ...] = (
    Query(
        "get_account", "/accounts/{account_id}", _account, m.Account,
        params=m.ACCOUNT, problems=(404,), lean=True,
        summary="Read an account", description="Its balance and status "
        "(its owner's, or any: admin).", tag="accounts",
    ),
    Query(
        "get_statement", "/accounts/{account_id}/statement", _statement,
        m.Statement, params=m.ACCOUNT, query=m.PageQuery, problems=(404,),
        summary="An account's movements, newest first", tag="accounts",
    ),
    Query(
        "list_accounts", "/customers/{owner_id}/accounts", _accounts_of,
        m.AccountPage, params=m.OWNER, query=m.PageQuery, problems=(404,),
        summary="A customer's accounts", tag="accounts",
    ),
)  # fmt: skip
