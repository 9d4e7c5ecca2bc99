"""Endpoint signatures built from a route table.

FastAPI reads an endpoint's parameters from `inspect.signature`, which
honours `__signature__`: one generic endpoint per route, given the
parameters its table entry names (typed, pattern-checked path parameters, a
body or query-string model, headers), documents and validates exactly as a
hand-written function would.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import Path, Request

from cqrskit.core.routes import CommandRoute, QueryRoute
from cqrskit.entrypoints.http.access import rule

KEYWORD = inspect.Parameter.KEYWORD_ONLY


def parameter(
    name: str, annotation: Any, default: Any = inspect.Parameter.empty
) -> inspect.Parameter:
    return inspect.Parameter(name, KEYWORD, annotation=annotation, default=default)


def path_parameters(patterns: Mapping[str, str]) -> list[inspect.Parameter]:
    """A required string per path parameter, checked against its pattern."""
    return [
        parameter(name, Annotated[str, Path(pattern=pattern)])
        for name, pattern in patterns.items()
    ]


def described(route: CommandRoute[Any] | QueryRoute[Any]) -> dict[str, Any]:
    """A table entry's name, documentation and access rule, as keyword
    arguments of `add_api_route`."""
    return {
        "name": route.name,
        "operation_id": route.name,
        "summary": route.summary or None,
        "description": route.description or None,
        "tags": [route.tag] if route.tag else None,
        **rule(route.access),
    }


def with_signature(
    endpoint: Callable[..., Any], parameters: list[inspect.Parameter]
) -> Callable[..., Any]:
    """`endpoint` (taking `request` and keyword arguments) as FastAPI should
    see it: the request first, then `parameters`."""
    request = parameter("request", Request)
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [request, *parameters], return_annotation=Any
    )
    return endpoint
