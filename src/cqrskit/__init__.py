"""cqrskit: CQRS and event sourcing with a reusable core and a reference shop."""

__version__ = "0.1.0"
