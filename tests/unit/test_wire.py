"""Broker batches: what the relay encodes, a projector decodes as it was, in
the current form and in the first one (projectors upgraded before the relay)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from cqrskit.core.messages import Metadata, RecordedEvent
from cqrskit.core.wire import decode_batch, encode_batch, event_to_dict

T0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def batch() -> list[RecordedEvent]:
    ann = Metadata("c1", "r1", None, "ann", ("customer",))
    system = Metadata("c2", "r2", "c1")
    return [
        RecordedEvent("cart-1", 1, 10, "CartCreated", {"cart_id": "1"}, T0, 1, ann),
        RecordedEvent("cart-2", 4, 11, "ItemAdded", {"q": [1, None]}, T0, 2, ann),
        RecordedEvent(
            "cart-1", 2, 12, "ItemAdded", {}, T0 + timedelta(seconds=1), 1, system
        ),
    ]


def test_a_batch_decodes_to_the_events_encoded_in_order() -> None:
    assert decode_batch(encode_batch(batch())) == batch()


def test_a_batch_spells_each_distinct_metadata_once() -> None:
    events = batch() * 50
    body = orjson.loads(encode_batch(events))

    assert len(body["metadata"]) == 2
    assert decode_batch(encode_batch(events)) == events


def test_a_batch_in_the_first_form_still_decodes() -> None:
    first_form = orjson.dumps([event_to_dict(e) for e in batch()])

    assert decode_batch(first_form) == batch()
