"""The secret scan every reliability test runs over what it wrote (``fixtures_reliability.assert_no_secret``) finds
a planted secret, in a file of a folder tree or in a text, and passes clean ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures_reliability import SECRETS, assert_no_secret

pytestmark = pytest.mark.reliability


def test_assert_no_secret_finds_each_planted_secret(tmp_path: Path) -> None:
    (tmp_path / "deep" / "er").mkdir(parents=True)
    clean = tmp_path / "deep" / "clean.log"
    clean.write_text("nothing to see\n")
    assert assert_no_secret([tmp_path], ["a clean text"]) == 1
    for secret in SECRETS:
        leaked = tmp_path / "deep" / "er" / "leak.bin"
        leaked.write_bytes(b"\x00prefix " + secret.encode() + b" suffix\xff")
        with pytest.raises(AssertionError, match=r"leak\.bin"):
            assert_no_secret([tmp_path])
        leaked.unlink()
        with pytest.raises(AssertionError, match="text 1"):
            assert_no_secret([], ["clean", f"error: password={secret}"])
