"""Entry points: HTTP services and the command line."""
