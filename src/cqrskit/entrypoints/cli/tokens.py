"""Bearer tokens: `cqrskit token`, and the demo tokens `cqrskit run --demo`
prints."""

from __future__ import annotations

from pathlib import Path

import click

from cqrskit.adapters.pyjwt import mint
from cqrskit.core.auth import ADMIN, CUSTOMER
from cqrskit.entrypoints.cli.options import data_dir_option
from cqrskit.runtime.settings import Settings, local_secret

DEMO_TTL = 24 * 3600.0


def demo_tokens(settings: Settings, secret: str) -> str:
    def token(subject: str, roles: list[str]) -> str:
        return mint(
            secret,
            subject,
            roles,
            DEMO_TTL,
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
        )

    return "\n".join(
        [
            "Bearer tokens for a try (24 h; `cqrskit token` makes more):",
            f"  customer alice   {token('alice', [CUSTOMER])}",
            f"  admin            {token('ops', [ADMIN])}",
        ]
    )


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(text: str) -> float:
    """`90`, `90s`, `15m`, `1h`, `2d` in seconds."""
    number, unit = (text[:-1], text[-1]) if text[-1:] in _UNITS else (text, "s")
    if not number.isdigit() or int(number) == 0:
        raise click.BadParameter(f"{text!r} is not a duration such as 90s, 15m, 1h")
    return float(int(number) * _UNITS[unit])


@click.command()
@click.option("--customer", required=True, help="The token's subject (`sub`).")
@click.option("--admin", is_flag=True, help="Add the admin role.")
@click.option("--ttl", default="1h", help="e.g. 90s, 15m, 1h, 2d")
@data_dir_option("Where `cqrskit run` keeps its secret (without CQRSKIT_AUTH_SECRET).")
def token(customer: str, admin: bool, ttl: str, data_dir: str) -> None:
    """Print a bearer token signed with the configured (or local) secret."""
    settings = Settings.from_env(data_dir=Path(data_dir))
    if settings.auth_jwks_url and not settings.auth_secret:
        raise click.ClickException(
            "CQRSKIT_AUTH_JWKS_URL is set: tokens come from the identity provider"
        )
    secret = settings.auth_secret or local_secret(Path(data_dir))
    roles = [CUSTOMER, ADMIN] if admin else [CUSTOMER]
    click.echo(
        mint(
            secret,
            customer,
            roles,
            _seconds(ttl),
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
        )
    )
