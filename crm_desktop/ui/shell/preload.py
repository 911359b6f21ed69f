"""The data layer, imported before PySide6: the first import of the app's start.

Once PySide6 is loaded, every module imported after it is checked for PySide's
``__feature__`` switches by reading its source (``inspect.getsource``, in
shiboken's import hook): some 600 modules at start, several hundred
milliseconds of the time to the first window. The services, and through them
the domain, persistence and formats layers with their libraries (SQLAlchemy,
SQLModel, pydantic, phonenumbers, ...), hold no Qt, and the window's features
import every one of them anyway: imported here first, they skip that check.
"""

from __future__ import annotations

import importlib
import pkgutil

import crm_desktop.services as services

for found in pkgutil.iter_modules(services.__path__):
    importlib.import_module(f"{services.__name__}.{found.name}")
