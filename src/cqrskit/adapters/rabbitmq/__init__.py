"""The RabbitMQ adapter: the Broker port on durable partition queues."""

from cqrskit.adapters.rabbitmq.broker import RabbitMqBus, drop_topology

__all__ = ["RabbitMqBus", "drop_topology"]
