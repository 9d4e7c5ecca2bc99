"""Bank accounts with transfers, on cqrskit: see README.md."""

from examples.bank.app import app

__all__ = ["app"]
