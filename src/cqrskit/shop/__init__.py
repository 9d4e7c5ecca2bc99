"""The reference shop: catalog, inventory, cart and orders on the cqrskit core."""
