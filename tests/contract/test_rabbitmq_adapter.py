"""The RabbitMQ broker under the kit's Broker contract (cqrskit.testing). Each
test's queues carry a prefix of their own and are deleted afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from cqrskit.adapters.rabbitmq import RabbitMqBus, drop_topology
from cqrskit.core.ports import Broker
from cqrskit.testing import BrokerContract, Opener
from services import AMQP_URL, require

pytestmark = pytest.mark.integration


class TestRabbitMqBus(BrokerContract):
    @pytest.fixture
    async def broker_opener(self) -> AsyncIterator[Opener[Broker]]:
        url = require(AMQP_URL)
        prefix = f"contract-{uuid.uuid4().hex[:12]}"

        async def opener() -> Broker:
            return await RabbitMqBus.open(
                url, partitions=4, prefix=prefix, retry_delay=0.01
            )

        yield opener
        await drop_topology(url, prefix=prefix, partitions=4)
