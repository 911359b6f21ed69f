"""The wheel ships every package and the resources (pyproject lists them)."""

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_in_pyproject():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "crm_desktop").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert "crm_desktop.resources" in listed
    assert config["package-dir"]["crm_desktop.resources"] == "resources"
    assert (REPO / "resources" / "__init__.py").exists()
