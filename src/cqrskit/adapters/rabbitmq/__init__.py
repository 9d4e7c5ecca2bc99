"""The RabbitMQ adapter: the Broker port on durable partition queues."""

from cqrskit.adapters.rabbitmq._topology import QueueType
from cqrskit.adapters.rabbitmq.broker import RabbitMqBus, drop_topology

__all__ = ["QueueType", "RabbitMqBus", "drop_topology"]
