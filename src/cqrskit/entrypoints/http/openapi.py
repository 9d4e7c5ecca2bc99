"""Corrections to the OpenAPI documents FastAPI infers, so they say exactly
what the services accept."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def parameters_never_null(app: FastAPI) -> None:
    """A query parameter or header is absent or a string; FastAPI documents an
    optional one (`str | None`) as also admitting JSON null, which a client
    can only send as the text `null`: drop that alternative."""
    infer = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = infer()
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    for parameter in operation.get("parameters", []):
                        _drop_null(parameter["schema"])
        return app.openapi_schema or infer()

    setattr(app, "openapi", openapi)  # noqa: B010 (mypy refuses assigning a method)


def _drop_null(schema: dict[str, Any]) -> None:
    options = [o for o in schema.get("anyOf", []) if o != {"type": "null"}]
    if "anyOf" not in schema or len(options) == len(schema["anyOf"]):
        return
    del schema["anyOf"]
    if len(options) == 1:
        schema.update(options[0])
    else:
        schema["anyOf"] = options
