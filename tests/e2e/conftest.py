"""End-to-end fixtures; the harness behind them is in harness.py (a module of
its own name, so tests can import from it whatever else is collected)."""

from harness import cqrskit, fresh_cqrskit, fresh_shop, shop

__all__ = ["cqrskit", "fresh_cqrskit", "fresh_shop", "shop"]
