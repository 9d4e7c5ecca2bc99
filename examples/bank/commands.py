"""The bank's command handlers: each loads what it needs, decides, and
returns only an acknowledgement. A customer acts on their own accounts; an
operator (admin) on any; another customer's account answers as a missing one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cqrskit.core.auth import Principal
from cqrskit.core.dispatcher import CommandContext, Dispatcher
from cqrskit.core.errors import NotFound
from cqrskit.core.messages import Ack
from cqrskit.core.session import Session
from examples.bank import domain as d


class BankCommands:
    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        clock: Callable[[], datetime],
        new_id: Callable[[], str],
    ) -> None:
        self._dispatcher = dispatcher
        self._clock = clock
        self._new_id = new_id

    async def open_account(
        self, ctx: CommandContext, owner_id: str, account_id: str | None
    ) -> Ack:
        new_account_id = account_id or self._new_id()
        opened_at = self._now()

        async def handle(session: Session) -> str:
            stream = d.account_stream(new_account_id)
            command = d.OpenAccount(new_account_id, owner_id, opened_at)
            await session.create(stream, d.account_decider, command)
            return stream

        return await self._dispatcher.dispatch(ctx, handle)

    def _now(self) -> str:
        return self._clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    async def move(self, ctx: CommandContext, command: d.Deposit | d.Withdraw) -> Ack:
        """A deposit or a withdrawal on one account."""

        async def handle(session: Session) -> str:
            stream = d.account_stream(command.account_id)
            await _own_account(session, command.account_id, ctx.principal)
            await session.execute(stream, d.account_decider, command)
            return stream

        return await self._dispatcher.dispatch(ctx, handle)

    async def transfer(
        self,
        ctx: CommandContext,
        from_account: str,
        to_account: str,
        amount_cents: int,
        transfer_id: str | None,
    ) -> Ack:
        """The transfer's record and both its halves in one append: the money
        leaves one account and reaches the other, or nothing happens.
        Acknowledges the transfer's own stream."""
        new_transfer_id = transfer_id or self._new_id()
        record = d.RecordTransfer(
            new_transfer_id, from_account, to_account, amount_cents, self._now()
        )
        send = d.SendMoney(from_account, new_transfer_id, to_account, amount_cents)
        receive = d.ReceiveMoney(
            to_account, new_transfer_id, from_account, amount_cents
        )

        async def handle(session: Session) -> str:
            stream = d.transfer_stream(new_transfer_id)
            await session.create(stream, d.transfer_decider, record)
            source = d.account_stream(from_account)
            await _own_account(session, from_account, ctx.principal)
            await session.execute(source, d.account_decider, send)
            target = d.account_stream(to_account)
            await session.execute(target, d.account_decider, receive)
            return stream

        streams = [d.account_stream(from_account), d.account_stream(to_account)]
        return await self._dispatcher.dispatch(ctx, handle, queue_on=streams)

    async def close(self, ctx: CommandContext, account_id: str) -> Ack:
        async def handle(session: Session) -> str:
            stream = d.account_stream(account_id)
            await _own_account(session, account_id, ctx.principal)
            await session.execute(stream, d.account_decider, d.CloseAccount(account_id))
            return stream

        return await self._dispatcher.dispatch(ctx, handle)


async def _own_account(
    session: Session, account_id: str, principal: Principal | None
) -> d.Account:
    """The account, if it exists and the caller may act on it; else, alike,
    404. The system itself (no principal) acts on any."""
    account = await session.load(d.account_stream(account_id), d.account_decider)
    allowed = principal is None or principal.owns(account.owner_id)
    if not account.exists or not allowed:
        raise NotFound(f"account {account_id} does not exist")
    return account
