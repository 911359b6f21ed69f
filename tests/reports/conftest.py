"""Fixtures for the documents' tests (Qt's GUI application comes from pytest-qt's ``qapp``)."""

from __future__ import annotations

import pytest
from cli_support import blns_lines


@pytest.fixture(scope="session")
def naughty_strings() -> list[str]:
    """The Big List of Naughty Strings without comments."""
    return blns_lines()
