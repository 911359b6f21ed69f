"""Before Qt starts on Linux: are the X11 libraries its xcb platform plugin needs there?

Without them Qt prints "Could not load the Qt platform plugin" and aborts
(a core dump, not a message), one missing library at a time. Here every
library ``libqxcb.so`` links to beyond a basic system is tried first, and a
person gets the one ``apt install`` line that installs them all. Windows
and macOS need no system packages. No Qt import: this runs before Qt loads.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping, Sequence

# The shared libraries Qt 6's xcb plugin (libqxcb.so, libQt6XcbQpa.so.6 and
# libQt6Gui.so.6) loads from the system, from `ldd` on PySide6's plugin,
# with the Debian/Ubuntu package that provides each.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}

APT_LINE = "sudo apt install " + " ".join(dict.fromkeys(XCB_LIBRARIES.values()))


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(
    qt_args: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    platform: str = sys.platform,
) -> bool:
    """Will Qt start its xcb (X11) platform plugin?"""
    if not platform.startswith("linux"):
        return False
    env = os.environ if environ is None else environ
    chosen = env.get("QT_QPA_PLATFORM", "")
    args = list(qt_args)
    for i, arg in enumerate(args):
        if arg in ("-platform", "--platform") and i + 1 < len(args):
            chosen = args[i + 1]
        elif arg.startswith(("-platform=", "--platform=")):
            chosen = arg.split("=", 1)[1]
    if chosen:
        # "wayland;xcb" tries wayland first; only a first choice of xcb needs the libraries.
        return chosen.split(";")[0].split(":")[0].strip() == "xcb"
    # Unset: Qt prefers Wayland in a Wayland session, else X11.
    return not (env.get("XDG_SESSION_TYPE") == "wayland" and env.get("WAYLAND_DISPLAY"))


def missing_libraries(loads: Callable[[str], bool] = _loads) -> list[str]:
    """The xcb plugin's system libraries that cannot be loaded."""
    return [soname for soname in XCB_LIBRARIES if not loads(soname)]


def missing_packages_message(missing: Sequence[str]) -> str:
    return (
        "CRM Desktop cannot start: Qt needs system libraries that are not installed "
        f"({', '.join(missing)}).\n"
        "On Debian or Ubuntu install them all with:\n"
        f"  {APT_LINE}\n"
        "(On other Linux distributions install the same libraries from their packages; "
        "Windows and macOS need none.)"
    )


def check_platform(
    qt_args: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    loads: Callable[[str], bool] = _loads,
    platform: str = sys.platform,
) -> str | None:
    """The message to print instead of Qt's abort, or None when Qt can start."""
    if not uses_xcb(qt_args, environ, platform):
        return None
    missing = missing_libraries(loads)
    return missing_packages_message(missing) if missing else None
