"""Bearer tokens verified and minted with PyJWT."""

from cqrskit.adapters.pyjwt.verifier import JwtVerifier, mint

__all__ = ["JwtVerifier", "mint"]
