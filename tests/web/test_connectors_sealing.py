"""Signing secrets sealed at rest: readable with the install's key, not without it."""

from __future__ import annotations

import pytest

from deskpulse.web.connectors.sealing import UnreadableSecretError, seal, unseal

KEY = "install-secret-key-" + "k" * 40
SECRET = "xQ7rT2mWv9ZkLp4NsB8cYd3F"


def test_round_trip_with_the_same_key() -> None:
    sealed = seal(SECRET, KEY)
    assert SECRET not in sealed
    assert unseal(sealed, KEY) == SECRET
    assert seal(SECRET, KEY) != sealed  # a fresh IV each time: equal secrets do not show


def test_another_key_cannot_open_it() -> None:
    with pytest.raises(UnreadableSecretError):
        unseal(seal(SECRET, KEY), KEY + "-changed")


@pytest.mark.parametrize("garbage", ["", "not a token", "gAAAAA" + "x" * 80, "é"])
def test_damaged_value_is_unreadable_not_a_crash(garbage: str) -> None:
    with pytest.raises(UnreadableSecretError):
        unseal(garbage, KEY)


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="SECRET_KEY"):
        seal(SECRET, "")
