"""The reusable core: messages, deciders, ports, dispatcher, relay, projections.

Nothing in here knows about the shop or about any storage technology.
"""
