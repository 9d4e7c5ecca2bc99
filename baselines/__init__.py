"""Rivals of cqrskit, built to be measured against it."""
