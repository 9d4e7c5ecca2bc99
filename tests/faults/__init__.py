"""The fault suite: `cqrskit up` under load on private PostgreSQL, Redis and
RabbitMQ instances, with processes killed, frozen and services restarted.

A package (unlike the other test folders) so that `report.py` and the
helpers import by a name of their own."""
