"""The shop's benchmark workload (`cqrskit bench`), over its typed client:
a product read, a cart, an order, and how long a command takes to show on
the read side. The kit times the phases (runtime/bench.py)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager, suppress

import httpx

from cqrskit.core.application import BenchPhase, BenchTarget
from cqrskit.shop.client import Conflict, ProblemError, ShopClient

SKUS = [f"BENCH-{n:02d}" for n in range(20)]
CARD = ("4242424242424242", "12/39", "123")


class _Steps:
    """One request (or chain) per phase; each says whether it succeeded.
    Reads send no consistency token: the phases measure the plain paths, and
    the last one measures the lag itself by polling."""

    def __init__(self, shop: ShopClient) -> None:
        self.shop = shop
        self.n = iter(range(10**9))

    def sku(self) -> str:
        return SKUS[next(self.n) % len(SKUS)]

    async def _cart_with_item(self) -> str:
        cart = f"bench-{uuid.uuid4().hex[:12]}"
        await self.shop.create_cart(customer_id="bench", cart_id=cart)
        await self.shop.add_item(cart, self.sku(), 1)
        return cart

    async def add_item(self) -> bool:
        return await _succeeds(self._cart_with_item())

    async def read_product(self) -> bool:
        return await _succeeds(self.shop.get_product(self.sku()))

    async def place_order(self) -> bool:
        async def order() -> None:
            cart = await self._cart_with_item()
            await self.shop.place_order(cart, *CARD)

        return await _succeeds(order())

    async def write_then_read(self) -> bool | float:
        """The sync lag: from the command's acknowledgement until a read shows
        its effect (the command's own round trip is not counted)."""
        sku = self.sku()
        price = 100 + next(self.n) % 1000
        if not await _succeeds(self.shop.change_price(sku, price)):
            return False
        acknowledged = time.perf_counter()
        for _ in range(2000):
            try:
                if (await self.shop.get_product(sku)).price_cents == price:
                    return time.perf_counter() - acknowledged
            except ProblemError:
                pass
            await asyncio.sleep(0.001)
        return False


async def _succeeds(call: Awaitable[object]) -> bool:
    try:
        await call
    except (ProblemError, httpx.TransportError):
        return False
    return True


@asynccontextmanager
async def shop_workload(target: BenchTarget) -> AsyncIterator[Sequence[BenchPhase]]:
    limits = httpx.Limits(max_connections=target.concurrency * 2)
    async with ShopClient(
        target.command_url,
        target.query_url,
        token=target.token,
        read_your_writes=False,
        limits=limits,
    ) as shop:
        for sku in SKUS:
            with suppress(Conflict):  # added by an earlier run
                await shop.add_product(sku, f"Bench {sku}", 100, key=f"b-{sku}")
            await shop.restock(sku, 1_000_000)
        steps = _Steps(shop)
        c = target.concurrency
        yield [
            BenchPhase("query GET /products/{sku}", c, steps.read_product),
            BenchPhase("cart (create + add item)", c, steps.add_item),
            BenchPhase("order (cart, item, order)", c, steps.place_order),
            BenchPhase("command -> visible on read", 1, steps.write_then_read),
        ]
