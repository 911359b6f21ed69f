"""Nothing outside crm_desktop/ui may need Qt (GUIDE: the core is Qt-free)."""

import pkgutil
import subprocess
import sys

import crm_desktop

BLOCK_QT = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'PyQt5', 'PyQt6'):
            raise ImportError('Qt is blocked: ' + name)
sys.meta_path.insert(0, Block())
import importlib
for name in sys.argv[1:]:
    importlib.import_module(name)
print('imported', len(sys.argv) - 1)
"""


def core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(crm_desktop.__path__, "crm_desktop."):
        if info.name.startswith(("crm_desktop.ui", "crm_desktop.persistence.migrations")):
            continue
        if info.name == "crm_desktop.reports.sar_pdf":  # renders PDF with QtGui
            continue
        names.append(info.name)
    return names


def test_core_imports_without_qt():
    modules = core_modules()
    assert "crm_desktop.services.prospects" in modules and "crm_desktop.cli" in modules
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_QT, *modules], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert f"imported {len(modules)}" in result.stdout


def test_no_qtsql_anywhere():
    """Qt bundles its own SQLite; two SQLite libraries on one file can corrupt it."""
    root = crm_desktop.__path__[0]
    for path in __import__("pathlib").Path(root).rglob("*.py"):
        assert "QtSql" not in path.read_text(encoding="utf-8"), path
