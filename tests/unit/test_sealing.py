"""The sealed reply token opens only with its Idempotency-Key, for its own record."""

from __future__ import annotations

import pytest

from services.intake.sealing import Unsealable, seal, unseal


def test_seal_opens_with_the_key_for_its_record_only() -> None:
    sealed = seal("kunci-1", "token-rahasia", bound_to="record-a")
    assert "token-rahasia" not in sealed
    assert unseal("kunci-1", sealed, bound_to="record-a") == "token-rahasia"
    with pytest.raises(Unsealable):
        unseal("kunci-2", sealed, bound_to="record-a")
    with pytest.raises(Unsealable):
        unseal("kunci-1", sealed, bound_to="record-b")
    with pytest.raises(Unsealable):
        unseal("kunci-1", sealed[:-4] + "AAAA", bound_to="record-a")
    assert seal("kunci-1", "token-rahasia", bound_to="record-a") != sealed, "a fresh nonce"
