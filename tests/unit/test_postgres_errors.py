"""Which asyncpg errors mean "PostgreSQL cannot serve now" (a 503 with
Retry-After) and which are bugs that must stay loud."""

from __future__ import annotations

import asyncpg
import pytest

from cqrskit.adapters.postgres._database import translate_errors
from cqrskit.core.errors import Misconfigured, StoreUnavailable


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.InterfaceError("cannot perform operation: connection is closed"),
        asyncpg.InterfaceError("pool is closing"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle"),
        asyncpg.AdminShutdownError("terminating connection"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.InternalClientError("unexpected message"),
        ConnectionRefusedError(111, "Connection refused"),
    ],
)
def test_a_lost_or_busy_server_is_unavailable(error: Exception) -> None:
    with pytest.raises(StoreUnavailable), translate_errors():
        raise error


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.InterfaceError("the server expects 2 arguments, 1 was passed"),
        asyncpg.UndefinedTableError('relation "events" does not exist'),
    ],
)
def test_bugs_stay_loud(error: Exception) -> None:
    with pytest.raises(type(error)), translate_errors():
        raise error


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.InvalidPasswordError("password authentication failed"),
        asyncpg.InvalidCatalogNameError('database "shop" does not exist'),
    ],
)
def test_a_configuration_that_cannot_work_is_misconfigured(error: Exception) -> None:
    with pytest.raises(Misconfigured), translate_errors():
        raise error
