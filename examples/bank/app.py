"""The bank as an application of the kit:

cqrskit run --app examples.bank:app
"""

from __future__ import annotations

from cqrskit.core.application import Application, Kit
from cqrskit.core.codec import EventCodec
from cqrskit.core.history import StateView
from examples.bank import domain, models
from examples.bank.commands import BankCommands
from examples.bank.demo import load_demo_data
from examples.bank.queries import BankQueries
from examples.bank.routes import COMMAND_ROUTES, QUERY_ROUTES
from examples.bank.views import bank_projections

Bank = Application[BankCommands, BankQueries]


def commands(kit: Kit) -> BankCommands:
    return BankCommands(kit.dispatcher, clock=kit.clock, new_id=kit.new_id)


app: Bank = Application(
    name="bank",
    codec=EventCodec(domain.EVENTS),
    commands=commands,
    command_routes=COMMAND_ROUTES,
    projections=bank_projections,
    queries=BankQueries,
    query_routes=QUERY_ROUTES,
    demo=load_demo_data,
    answer_model=models.CommandAnswer,
    states={
        "account": StateView(domain.account_decider),
        "transfer": StateView(domain.transfer_decider, lambda made: {"made": made}),
    },
)
