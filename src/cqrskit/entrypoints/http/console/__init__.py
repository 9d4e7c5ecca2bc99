"""The operator's web console: a JSON API under /console/api and the static
page that uses it (entrypoints/http/console/static, no build step)."""

from cqrskit.entrypoints.http.console.app import (
    create_console_app,
    create_console_service,
)

__all__ = ["create_console_app", "create_console_service"]
