"""Wiring: settings, the one bootstrap, and the processes."""
