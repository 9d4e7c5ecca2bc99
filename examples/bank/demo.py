"""Two customers' accounts with some money, loaded through the command path."""

from __future__ import annotations

from cqrskit.core.dispatcher import CommandContext
from cqrskit.core.errors import Conflict
from examples.bank import domain as d
from examples.bank.commands import BankCommands

ACCOUNTS = [("alice-main", "alice", 50_000), ("bob-main", "bob", 20_000)]


async def load_demo_data(bank: BankCommands) -> int:
    """Open the demo accounts once, each with its first deposit; running it
    again changes nothing."""
    opened = 0
    for account_id, owner_id, cents in ACCOUNTS:
        try:
            await bank.open_account(
                _context(f"open-{account_id}"), owner_id, account_id
            )
        except Conflict:
            continue
        await bank.move(_context(f"deposit-{account_id}"), d.Deposit(account_id, cents))
        opened += 1
    return opened


def _context(key: str) -> CommandContext:
    return CommandContext(command_id=key, correlation_id="demo-data")
