"""Keeping a connector's webhook signing secret encrypted at rest.

Verifying an HMAC needs the secret itself, so a hash (as for the URL secret) is not
enough. The secret is sealed with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived
from the install's SECRET_KEY with HKDF: a copy of the app database alone does not give
the secrets away. If SECRET_KEY changes, sealed secrets cannot be opened any more; the
receiver then refuses the connector's webhooks and says to set the secret again.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Ties the derived key to this one use: the same SECRET_KEY signs sessions and CSRF
# tokens, and a key derived for another purpose must not open these.
_PURPOSE = b"deskpulse connectors: webhook signing secret v1"


class UnreadableSecretError(Exception):
    """A sealed secret that this install's key cannot open (SECRET_KEY changed)."""


def _fernet(secret_key: str) -> Fernet:
    if not secret_key:
        raise ValueError("the install has no SECRET_KEY to derive the sealing key from")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(plaintext: str, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(plaintext.encode()).decode("ascii")


def unseal(token: str, secret_key: str) -> str:
    try:
        return _fernet(secret_key).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError) as error:
        raise UnreadableSecretError(
            "the stored signing secret cannot be read with this install's SECRET_KEY"
        ) from error
