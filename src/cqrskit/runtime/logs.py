"""Logging for every cqrskit process, configured in one place.

The same `dictConfig` serves the CLI's own process and uvicorn's: uvicorn
applies a `log_config` again in each `--workers` child, so a dictionary (not
handlers set up by hand) is what reaches every process. uvicorn's loggers
have no handlers of their own here; they propagate to the root handler, and
`uvicorn.access` has its own level so that the access log can be turned up or
down without touching the rest.
"""

from __future__ import annotations

import logging.config
from typing import Any

LEVELS = ("critical", "error", "warning", "info", "debug")


def log_config(level: str, access_level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` document: one handler on stderr with
    passwords masked; `level` for everything, `access_level` for the access log."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
        },
        "filters": {"mask": {"()": "cqrskit.runtime.redaction.MaskPasswords"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "plain",
                "filters": ["mask"],
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": {"level": level.upper(), "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level.upper(), "propagate": True},
            "uvicorn.access": {"level": access_level.upper(), "propagate": True},
            "httpx": {"level": "WARNING"},  # a line per request of the bench
        },
    }


def configure(level: str, access_level: str) -> None:
    logging.config.dictConfig(log_config(level, access_level))
