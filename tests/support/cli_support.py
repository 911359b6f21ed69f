"""Helpers shared by the CLI tests (conftest.py holds the fixtures).

Imported by name: every test folder's conftest is called ``conftest``, so
``from conftest import ...`` could pick up another folder's.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def assert_error(result: Result, code: int, *fragments: str) -> None:
    """A refusal: the exit code, nothing on stdout, one clear line on stderr."""
    assert result.code == code, result
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert "error:" in lines[0]
    assert "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in lines[0]


@functools.cache
def blns_lines() -> list[str]:
    """``tests/conftest.py``'s Big List of Naughty Strings, loaded from that file."""
    spec = importlib.util.spec_from_file_location("_crm_tests_conftest", TESTS / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.blns_lines()


def read_table(path: Path, fmt: str) -> list[list[str]]:
    """An exported file's rows (header first) as text, read the way a person would open it."""
    if fmt == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        try:
            return [
                ["" if v is None else str(v) for v in row]
                for row in book.worksheets[0].iter_rows(values_only=True)
            ]
        finally:
            book.close()
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))
