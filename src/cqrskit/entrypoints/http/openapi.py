"""Corrections and additions to the OpenAPI documents FastAPI infers, so they
say exactly what the services accept and answer: optional parameters that
are never null, the problem schema, and the headers every route shares."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from cqrskit.core.consistency import HEADER as TOKEN_HEADER
from cqrskit.entrypoints.http.middleware import CORRELATION_HEADER
from cqrskit.entrypoints.http.problems import PROBLEM_SCHEMA, SCHEMA_NAME

CORRELATION_PARAMETER = {
    "name": CORRELATION_HEADER,
    "in": "header",
    "required": False,
    "description": "Ties this request to its log lines and to the metadata of "
    "the events it appends. Kept when it is 1 to 128 of `A-Za-z0-9._:-`, "
    "else replaced by a new one; echoed in the answer.",
    "schema": {"type": "string"},
}
_CORRELATION_ANSWER = {
    "description": "The request's correlation id (its own, or a new one).",
    "schema": {"type": "string"},
}
_TOKEN_ANSWER = {
    "description": "Send it as the `Consistency-Token` of a query to read "
    "this command's effect (read-your-writes); also in the body.",
    "required": True,
    "schema": {"type": "string"},
}


def complete(app: FastAPI) -> None:
    """Correct and complete `app`'s document when it is first built."""
    infer = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = infer()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas[SCHEMA_NAME] = PROBLEM_SCHEMA
            for operations in document.get("paths", {}).values():
                for method, operation in operations.items():
                    _complete_operation(method, operation)
        return app.openapi_schema or infer()

    setattr(app, "openapi", openapi)  # noqa: B010 (mypy refuses assigning a method)


def _complete_operation(method: str, operation: dict[str, Any]) -> None:
    parameters = operation.setdefault("parameters", [])
    for parameter in parameters:
        _drop_null(parameter["schema"])
    parameters.append(CORRELATION_PARAMETER)
    for status, response in operation["responses"].items():
        headers = response.setdefault("headers", {})
        headers[CORRELATION_HEADER] = _CORRELATION_ANSWER
        if method != "get" and str(status).startswith("2"):
            headers[TOKEN_HEADER] = _TOKEN_ANSWER


def _drop_null(schema: dict[str, Any]) -> None:
    """A query parameter or header is absent or a string; FastAPI documents an
    optional one (`str | None`) as also admitting JSON null, which a client
    can only send as the text `null`: drop that alternative."""
    options = [o for o in schema.get("anyOf", []) if o != {"type": "null"}]
    if "anyOf" not in schema or len(options) == len(schema["anyOf"]):
        return
    del schema["anyOf"]
    if len(options) == 1:
        schema.update(options[0])
    else:
        schema["anyOf"] = options
