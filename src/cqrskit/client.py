"""`cqrskit.client`: the typed Python client of the reference shop's services
(see cqrskit/shop/client.py)."""

from cqrskit.shop.client import *  # noqa: F403
from cqrskit.shop.client import __all__ as __all__
