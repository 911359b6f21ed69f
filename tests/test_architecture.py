"""Nothing outside crm_desktop/ui may need Qt (GUIDE: the core is Qt-free), except the
PDF writers in reports/, which need QtGui but never QtWidgets."""

import ast
import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

import crm_desktop
import crm_desktop.reports

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


def _imports(module: str) -> set[str]:
    """The modules ``module``'s source imports (absolute names, lazy imports included)."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    package = module if spec.submodule_search_locations else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def qt_reports() -> set[str]:
    """The modules of ``reports`` that need Qt: they import PySide6, or such a module."""
    modules = [
        info.name
        for info in pkgutil.walk_packages(crm_desktop.reports.__path__, "crm_desktop.reports.")
    ]
    imports = {name: _imports(name) for name in modules}
    needy = {name for name in modules if any(i.startswith("PySide6") for i in imports[name])}
    while True:
        more = {name for name in modules if imports[name] & needy} - needy
        if not more:
            return needy
        needy |= more


def core_modules() -> list[str]:
    """Every module that must import without Qt: all but ui, migrations and the PDF writers."""
    qt = qt_reports()
    names = []
    for info in pkgutil.walk_packages(crm_desktop.__path__, "crm_desktop."):
        if info.name.startswith(("crm_desktop.ui", "crm_desktop.persistence.migrations")):
            continue
        if info.name in qt:
            continue
        names.append(info.name)
    return names


def test_only_the_pdf_writers_in_reports_need_qt():
    """reports/ makes documents without Qt; only painting them as PDF needs QtGui."""
    assert qt_reports() == {
        "crm_desktop.reports.pdf",
        "crm_desktop.reports.sar_pdf",
        "crm_desktop.reports.history_pdf",
    }
    core = core_modules()
    for name in ("sar_html", "history", "html", "marketing_text"):
        assert f"crm_desktop.reports.{name}" in core


def test_core_imports_without_qt():
    modules = core_modules()
    assert "crm_desktop.services.prospects" in modules and "crm_desktop.cli" in modules
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_QT, *modules], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert f"imported {len(modules)}" in result.stdout


BLOCK_WIDGETS = BLOCK_QT.replace(
    "name.split('.')[0] in ('PySide6', 'shiboken6', 'PyQt5', 'PyQt6')",
    "name == 'PySide6.QtWidgets' or name.split('.')[0] in ('PyQt5', 'PyQt6')",
)


def test_the_pdf_writers_need_no_widgets():
    """The PDF is painted with QtGui alone (the CLI writes it with no widgets at all)."""
    assert BLOCK_WIDGETS != BLOCK_QT
    modules = sorted(qt_reports())
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_WIDGETS, *modules], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert f"imported {len(modules)}" in result.stdout
    # The block is real: a module that does need widgets is refused.
    refused = subprocess.run(
        [sys.executable, "-c", BLOCK_WIDGETS, "crm_desktop.ui.common.messages"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode != 0 and "Qt is blocked: PySide6.QtWidgets" in refused.stderr


def test_no_qtsql_anywhere():
    """Qt bundles its own SQLite; two SQLite libraries on one file can corrupt it."""
    root = crm_desktop.__path__[0]
    for path in __import__("pathlib").Path(root).rglob("*.py"):
        assert "QtSql" not in path.read_text(encoding="utf-8"), path
