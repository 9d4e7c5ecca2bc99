"""cqrskit.testing's given/when/then fail when what happened is not what was
expected (a helper that cannot fail would prove nothing)."""

from __future__ import annotations

import pytest

from cqrskit.core.errors import Conflict, NotFound
from cqrskit.core.session import Session
from cqrskit.shop.domain.cart import AddItem, CartCreated, CreateCart, cart_decider
from cqrskit.shop.domain.events import shop_codec
from cqrskit.testing import given, given_streams, handling

CREATED = CartCreated("c1", "alice")
Failed = pytest.fail.Exception


def test_then_fails_on_other_events() -> None:
    with pytest.raises(Failed, match="decided"):
        given(cart_decider).when(CreateCart("c1", "alice")).then(
            CartCreated("c1", "bob")
        )


def test_then_raises_fails_when_the_command_is_accepted() -> None:
    with pytest.raises(Failed, match="was accepted"):
        given(cart_decider).when(CreateCart("c1", "alice")).then_raises(NotFound)


async def create(session: Session) -> str:
    await session.create("cart-c1", cart_decider, CreateCart("c1", "alice"))
    return "cart-c1"


async def test_a_handler_scenario_compares_what_was_appended() -> None:
    scenario = given_streams(shop_codec()).when(handling(create))

    ack = await scenario.then({"cart-c1": [CREATED]})

    assert (ack.stream_id, ack.version) == ("cart-c1", 1)
    with pytest.raises(Failed, match="appended"):
        await scenario.then({"cart-c1": [CartCreated("c1", "bob")]})
    with pytest.raises(Failed, match="was accepted"):
        await scenario.then_raises(NotFound)


async def test_a_handler_scenario_starts_from_the_given_streams() -> None:
    async def add(session: Session) -> str:
        command = AddItem("c1", "SKU-1", 1, "Mug", 100)
        await session.execute("cart-c1", cart_decider, command)
        return "cart-c1"

    given_cart = given_streams(shop_codec(), {"cart-c1": [CREATED]})

    await given_cart.when(handling(create)).then_raises(Conflict, match="exists")
    await given_streams(shop_codec()).when(handling(add)).then_raises(NotFound)
