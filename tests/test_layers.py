"""The layering written down as import-linter contracts (pyproject.toml), checked here.

The README's test command runs this, so a change that breaks a layer fails the
suite: ``lint-imports`` reads every module's imports (lazy ones inside
functions too), so an import hidden in a function is caught as well.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import crm_desktop

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(crm_desktop.__path__[0])


def _lint_imports() -> str:
    script = Path(sys.executable).with_name("lint-imports")
    command = [str(script)] if script.exists() else [shutil.which("lint-imports") or "lint-imports"]
    result = subprocess.run(
        [*command, "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return result.stdout


def _contracts() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["importlinter"]["contracts"]


def test_the_contracts_are_all_there_and_list_no_exceptions():
    contracts = _contracts()
    kinds = {c["type"] for c in contracts}
    assert {"layers", "forbidden", "acyclic_siblings"} <= kinds
    for contract in contracts:
        assert "ignore_imports" not in contract, contract["name"]
        assert "unmatched_ignore_imports_alerting" not in contract, contract["name"]
    layers = next(c for c in contracts if c.get("containers") == ["crm_desktop"])
    assert layers["layers"] == [
        "ui | cli",
        "reports",
        "services",
        "persistence",
        "formats",
        "domain",
    ]


def test_every_contract_is_kept():
    out = _lint_imports()
    kept = re.search(r"Contracts: (\d+) kept, (\d+) broken", out)
    assert kept, out
    assert int(kept.group(2)) == 0, out
    assert int(kept.group(1)) == len(_contracts()), out


def _private_imports(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            internal = node.level > 0 or (node.module or "").startswith("crm_desktop")
            for alias in node.names:
                name = alias.name
                if internal and name.startswith("_") and not name.startswith("__"):
                    found.append(f"{path.relative_to(root)}:{node.lineno} imports {name}")
    return found


def test_no_private_name_crosses_a_module_border():
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in _private_imports(path)]
    assert found == []


def test_the_private_name_check_sees_a_private_import(tmp_path):
    """The check above would catch one (so its empty result means something)."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from crm_desktop.reports.sar_html import _table\nfrom . import _helpers, public\n"
        "from os import _exit\n",
        encoding="utf-8",
    )
    assert _private_imports(sample, tmp_path) == [
        "sample.py:1 imports _table",
        "sample.py:2 imports _helpers",
    ]
