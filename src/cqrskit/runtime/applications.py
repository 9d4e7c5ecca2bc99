"""Loading an application object by name, as uvicorn loads an app.

`package.module:attr` is imported with the current directory on the path,
so `cqrskit run --app examples.library:app` typed in a project's root finds
its package there. The kit never imports a domain any other way.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from cqrskit.core.application import Application


class ApplicationNotFound(ValueError):
    """The name does not lead to an application object."""


def load_application(spec: str) -> Application[Any, Any]:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ApplicationNotFound(
            f"{spec!r} is not of the form package.module:attribute"
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ApplicationNotFound(f"cannot import {module_name!r}: {e}") from e
    found = module
    for part in attr.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise ApplicationNotFound(
                f"module {module_name!r} has no attribute {attr!r}"
            ) from None
    if not isinstance(found, Application):
        kind = type(found).__name__
        raise ApplicationNotFound(f"{spec} is a {kind}, not a cqrskit Application")
    return found
