"""API keys and webhook secrets: made random, stored hashed, compared in constant time."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid


def new_api_key() -> str:
    """A random key in the reference API's UUID form (122 random bits)."""
    return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))


def hash_key(api_key: str) -> str:
    # A fast hash suffices: the key is random, not a password a person chose.
    return hashlib.sha256(api_key.strip().lower().encode()).hexdigest()


def key_matches(api_key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(api_key), stored_hash)


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: whsec_ + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
