"""The bank over HTTP, in one process: what a client of its two services sees."""

from __future__ import annotations

import asyncio

from examples.bank.tests.conftest import Bank, auth


async def open_funded(bank: Bank, account_id: str, who: str, cents: int) -> None:
    await bank.do("/accounts", {"account_id": account_id}, who=who, status=201)
    if cents:
        await bank.do(
            f"/accounts/{account_id}/deposits", {"amount_cents": cents}, who=who
        )


async def test_a_transfer_moves_money_between_two_customers(accounts: Bank) -> None:
    await open_funded(accounts, "alice-1", "alice", 10_000)
    await open_funded(accounts, "bob-1", "bob", 0)
    answer = await accounts.do(
        "/transfers",
        {"from_account": "alice-1", "to_account": "bob-1", "amount_cents": 2_500},
        status=201,
    )
    assert answer["stream_id"] == f"transfer-{answer['transfer_id']}"
    assert (await accounts.read("/accounts/alice-1"))["balance_cents"] == 7_500
    bob = await accounts.read("/accounts/bob-1", who="bob")
    assert bob == {
        "account_id": "bob-1",
        "owner_id": "bob",
        "balance_cents": 2_500,
        "status": "open",
        "opened_at": bob["opened_at"],
    }
    statement = await accounts.read("/accounts/alice-1/statement")
    kinds = [(m["kind"], m["amount_cents"]) for m in statement["items"]]
    assert kinds == [("transfer_out", 2_500), ("deposit", 10_000)]


async def test_an_overdraft_is_refused_and_changes_nothing(accounts: Bank) -> None:
    await open_funded(accounts, "alice-1", "alice", 100)
    await open_funded(accounts, "bob-1", "bob", 0)
    problem = await accounts.do(
        "/transfers",
        {"from_account": "alice-1", "to_account": "bob-1", "amount_cents": 101},
        status=409,
    )
    assert "less than 101" in str(problem["detail"])
    await accounts.do(
        "/accounts/alice-1/withdrawals", {"amount_cents": 101}, status=409
    )
    assert (await accounts.read("/accounts/alice-1"))["balance_cents"] == 100
    assert (await accounts.read("/accounts/bob-1", who="bob"))["balance_cents"] == 0


async def test_a_transfer_to_a_missing_account_takes_nothing(accounts: Bank) -> None:
    await open_funded(accounts, "alice-1", "alice", 100)
    await accounts.do(
        "/transfers",
        {"from_account": "alice-1", "to_account": "nobody", "amount_cents": 50},
        status=404,
    )
    assert (await accounts.read("/accounts/alice-1"))["balance_cents"] == 100


async def test_customers_see_and_move_only_their_own_money(accounts: Bank) -> None:
    await open_funded(accounts, "alice-1", "alice", 100)
    await accounts.read("/accounts/alice-1", who="mallory", status=404)
    await accounts.read("/accounts/alice-1/statement", who="mallory", status=404)
    await accounts.read("/customers/alice/accounts", who="mallory", status=404)
    await accounts.do(
        "/transfers",
        {"from_account": "alice-1", "to_account": "alice-1x", "amount_cents": 1},
        who="mallory",
        status=404,
    )
    await accounts.do("/accounts", {"owner_id": "alice"}, who="mallory", status=403)
    listed = await accounts.read("/customers/alice/accounts", who="admin")
    assert [a["account_id"] for a in listed["items"]] == ["alice-1"]
    anonymous = await accounts.query.get("/accounts/alice-1")
    assert anonymous.status_code == 401


async def test_a_repeated_request_is_answered_once(accounts: Bank) -> None:
    await open_funded(accounts, "alice-1", "alice", 1_000)
    await open_funded(accounts, "bob-1", "bob", 0)
    body = {"from_account": "alice-1", "to_account": "bob-1", "amount_cents": 300}
    first, again = await asyncio.gather(
        accounts.do("/transfers", body, status=201, key="pay-bob-once"),
        accounts.do("/transfers", body, status=201, key="pay-bob-once"),
    )
    assert first["transfer_id"] == again["transfer_id"]
    assert (await accounts.read("/accounts/bob-1", who="bob"))["balance_cents"] == 300


async def test_only_an_empty_account_closes(accounts: Bank) -> None:
    await open_funded(accounts, "alice-1", "alice", 10)
    await accounts.do("/accounts/alice-1/close", status=409)
    await accounts.do("/accounts/alice-1/withdrawals", {"amount_cents": 10})
    await accounts.do("/accounts/alice-1/close")
    assert (await accounts.read("/accounts/alice-1"))["status"] == "closed"
    await accounts.do("/accounts/alice-1/deposits", {"amount_cents": 1}, status=409)


async def test_the_statement_pages_newest_first(accounts: Bank) -> None:
    await open_funded(accounts, "alice-1", "alice", 1)
    for cents in range(2, 6):
        await accounts.do("/accounts/alice-1/deposits", {"amount_cents": cents})
    first = await accounts.read("/accounts/alice-1/statement?limit=3")
    rest = await accounts.read(
        f"/accounts/alice-1/statement?limit=3&cursor={first['next_cursor']}"
    )
    amounts = [m["amount_cents"] for m in first["items"] + rest["items"]]
    assert amounts == [5, 4, 3, 2, 1]
    assert rest["next_cursor"] is None


async def test_the_api_is_described(accounts: Bank) -> None:
    document = (await accounts.command.get("/openapi.json")).json()
    transfer = document["paths"]["/transfers"]["post"]
    assert transfer["operationId"] == "transfer"
    assert "409" in transfer["responses"] and "404" in transfer["responses"]
    reads = (await accounts.query.get("/openapi.json")).json()
    assert "/accounts/{account_id}/statement" in reads["paths"]
    assert auth("alice")["Authorization"].startswith("Bearer ")
