"""The shop as a CRUD monolith: one FastAPI app on one PostgreSQL database.

The baseline the CQRS topology is measured against. It serves the same HTTP
contract (docs/http-api.md) on one port, with normalised tables, JOIN reads
and row-locked transactions. It imports nothing of cqrskit but the pydantic
request models, so that both refuse exactly the same input.
"""
