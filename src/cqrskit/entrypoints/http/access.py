"""Who may call a route: the rule lives next to each route's definition.

Every route of both services names one of three rules with `**rule(...)` in
its decorator: the dependency that enforces it and the `x-access` extension
that documents it (with the OpenAPI `security` requirement FastAPI derives
from the dependency). The lean Starlette routes of both services call
`signed_in` or `admin_only` themselves (entrypoints/http/lean.py).
Ownership (a customer's own carts and orders) is checked by the handlers,
which know the resource; another customer's resource answers 404, as if it
did not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cqrskit.core.auth import Access, Principal, TokenVerifier
from cqrskit.core.errors import Forbidden, Unauthenticated
from cqrskit.entrypoints.http import problems
from cqrskit.entrypoints.http.ratelimit import RateLimiter

__all__ = ["Access", "install", "principal_of", "rule", "signed_in"]

ACCESS_KEY = "x-access"
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="A JWT: `sub` is the customer id, `roles` holds "
    "`customer` and/or `admin`, `exp` is required.",
)


def install(app: FastAPI, verifier: TokenVerifier, rate_limit: float = 0.0) -> None:
    """`rate_limit`: commands per second per caller (0: no limit)."""
    app.state.verifier = verifier
    app.state.limiter = RateLimiter(rate_limit) if rate_limit > 0 else None
    _document(app)


async def authenticate(request: Request) -> Principal:
    """The request's verified principal, or Unauthenticated (401). A command
    counts against its principal's rate, or its address's without one."""
    limiter: RateLimiter | None = request.app.state.limiter
    if request.method in ("GET", "HEAD"):
        limiter = None
    address = f"address:{request.client.host if request.client else '-'}"
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("this route needs an Authorization: Bearer token")
        verifier: TokenVerifier = request.app.state.verifier
        principal = await verifier.verify(token.strip())
    except Unauthenticated:
        if limiter is not None:
            limiter.check(address)
        raise
    if limiter is not None:
        limiter.check(f"principal:{principal.subject}")
    request.state.principal = principal
    return principal


async def signed_in(request: Request) -> Principal:
    """A customer or an admin (ownership is the handler's to check)."""
    principal = await authenticate(request)
    if not (principal.is_customer or principal.is_admin):
        raise Forbidden("the token holds neither the customer nor the admin role")
    return principal


async def admin_only(request: Request) -> Principal:
    principal = await authenticate(request)
    if not principal.is_admin:
        raise Forbidden("this route is for operators (the admin role)")
    return principal


async def _customer_guard(
    request: Request,
    _: HTTPAuthorizationCredentials | None = Security(BEARER),  # noqa: B008
) -> Principal:
    return await signed_in(request)


async def _admin_guard(
    request: Request,
    _: HTTPAuthorizationCredentials | None = Security(BEARER),  # noqa: B008
) -> Principal:
    return await admin_only(request)


_GUARDS = {Access.CUSTOMER: _customer_guard, Access.ADMIN: _admin_guard}


def rule(access: Access) -> dict[str, Any]:
    """Keyword arguments for a route decorator that enforce and document `access`."""
    extra = {"openapi_extra": {ACCESS_KEY: access.value}}
    if access is Access.PUBLIC:
        return extra
    return {**extra, "dependencies": [Security(_GUARDS[access])]}


def principal_of(request: Request) -> Principal:
    """The principal a guard verified for this request."""
    principal: Principal = request.state.principal
    return principal


def _document(app: FastAPI) -> None:
    """Protected operations document their 401 and 403 problem answers."""
    infer = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = infer()
            for operations in document.get("paths", {}).values():
                for method, operation in operations.items():
                    if operation.get(ACCESS_KEY) != Access.PUBLIC:
                        operation["responses"].update(problems.answers(401, 403))
                    if method != "get":  # a command: rate-limited
                        operation["responses"].update(problems.answers(429))
        return app.openapi_schema or infer()

    setattr(app, "openapi", openapi)  # noqa: B010 (mypy refuses assigning a method)
