"""The HTTP services (FastAPI)."""
