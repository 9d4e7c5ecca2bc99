import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cqrskit.core.codec import UnknownEventType
from cqrskit.core.messages import JsonDict
from cqrskit.shop.domain import cart, catalog, inventory, orders
from cqrskit.shop.domain.catalog import ProductAdded
from cqrskit.shop.domain.events import ALL_EVENTS, shop_codec


def test_all_events_lists_every_event_of_every_stream() -> None:
    every = {*catalog.EVENTS, *inventory.EVENTS, *cart.EVENTS, *orders.EVENTS}
    assert set(ALL_EVENTS) == every
    assert len(ALL_EVENTS) == len(every)


@pytest.mark.parametrize("event_type", ALL_EVENTS, ids=lambda t: t.__name__)
@given(data=st.data())
def test_every_event_round_trips_through_stored_json(
    event_type: type[Any], data: st.DataObject
) -> None:
    event = data.draw(st.builds(event_type), label="event")
    codec = shop_codec()
    new = codec.encode(event)
    # Through JSON text, as a store keeps it.
    stored: JsonDict = json.loads(json.dumps(new.data))
    assert new.type == event_type.__name__
    assert new.schema_version == 1
    assert codec.decode_data(new.type, stored, new.schema_version) == event


def upcast_v1_v2(data: JsonDict) -> JsonDict:
    """v1 called the name `title` and had no category."""
    upgraded = {k: v for k, v in data.items() if k != "title"}
    return {**upgraded, "name": data["title"], "category": "uncategorised"}


V1_DATA: JsonDict = {
    "sku": "SKU-1",
    "title": "Mug",
    "price_cents": 1200,
    "description": "A white mug",
}


def test_an_upcaster_lifts_v1_data_to_the_current_event() -> None:
    codec = shop_codec()
    codec.register_upcaster("ProductAdded", 1, upcast_v1_v2)
    decoded = codec.decode_data("ProductAdded", V1_DATA, 1)
    assert decoded == ProductAdded("SKU-1", "Mug", 1200, "A white mug", "uncategorised")


def test_current_data_is_not_upcast_and_new_events_are_stamped_v2() -> None:
    codec = shop_codec()
    codec.register_upcaster("ProductAdded", 1, upcast_v1_v2)
    event = ProductAdded("SKU-1", "Mug", 1200, "A white mug", "kitchen")
    new = codec.encode(event)
    assert new.schema_version == 2
    # upcast_v1_v2 would fail on v2 data (no `title`): it must not run.
    assert codec.decode_data(new.type, new.data, new.schema_version) == event


def test_upcasters_chain_from_the_stored_version() -> None:
    def upcast_v2_v3(data: JsonDict) -> JsonDict:
        return {**data, "description": data["description"].upper()}

    codec = shop_codec()
    codec.register_upcaster("ProductAdded", 2, upcast_v2_v3)
    codec.register_upcaster("ProductAdded", 1, upcast_v1_v2)
    decoded = codec.decode_data("ProductAdded", V1_DATA, 1)
    assert decoded == ProductAdded("SKU-1", "Mug", 1200, "A WHITE MUG", "uncategorised")


def test_an_upcaster_on_one_codec_leaves_another_alone() -> None:
    shop_codec().register_upcaster("ProductAdded", 1, upcast_v1_v2)
    assert shop_codec().encode(ProductAdded("S", "N", 1, "", "")).schema_version == 1


def test_decoding_an_unknown_type_raises_unknown_event_type() -> None:
    codec = shop_codec()
    assert not codec.knows("ProductDeleted")
    with pytest.raises(UnknownEventType, match="ProductDeleted"):
        codec.decode_data("ProductDeleted", {"sku": "SKU-1"}, 1)


def test_encoding_an_unknown_type_raises_unknown_event_type() -> None:
    with pytest.raises(UnknownEventType, match="Restock"):
        shop_codec().encode(inventory.Restock("SKU-1", 1))
