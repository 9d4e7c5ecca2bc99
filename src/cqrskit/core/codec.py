"""Turns domain events (frozen dataclasses) into stored events and back.

Upcasters lift old schema versions of an event's data to the current one;
they are named `upcast_v1_v2` and registered per event type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import TypeAdapter

from cqrskit.core.messages import JsonDict, NewEvent, RecordedEvent

Upcaster = Callable[[JsonDict], JsonDict]


class UnknownEventType(Exception):
    pass


class EventCodec:
    def __init__(self, event_types: Iterable[type[Any]]) -> None:
        self._by_name: dict[str, type[Any]] = {}
        self._adapters: dict[type[Any], TypeAdapter[Any]] = {}
        self._versions: dict[str, int] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        for event_type in event_types:
            self._by_name[event_type.__name__] = event_type
            self._adapters[event_type] = TypeAdapter(event_type)
            self._versions[event_type.__name__] = 1

    def register_upcaster(
        self, type_name: str, from_version: int, fn: Upcaster
    ) -> None:
        self._upcasters[(type_name, from_version)] = fn
        self._versions[type_name] = max(self._versions[type_name], from_version + 1)

    def encode(self, event: Any) -> NewEvent:
        name = type(event).__name__
        adapter = self._adapters.get(type(event))
        if adapter is None:
            raise UnknownEventType(name)
        data = adapter.dump_python(event, mode="json")
        return NewEvent(type=name, data=data, schema_version=self._versions[name])

    def decode(self, recorded: RecordedEvent) -> Any:
        return self.decode_data(recorded.type, recorded.data, recorded.schema_version)

    def decode_data(self, type_name: str, data: JsonDict, schema_version: int) -> Any:
        event_type = self._by_name.get(type_name)
        if event_type is None:
            raise UnknownEventType(type_name)
        version = schema_version
        while version < self._versions[type_name]:
            data = self._upcasters[(type_name, version)](data)
            version += 1
        return self._adapters[event_type].validate_python(data)

    def schema_version(self, type_name: str) -> int:
        """The version this codec decodes `type_name`'s events to."""
        return self._versions[type_name]

    def knows(self, type_name: str) -> bool:
        return type_name in self._by_name
