"""Choose Kivy's input providers and clipboard for the machine the app starts on.

Kivy tries every Linux input provider and every X11 clipboard tool as it loads, and
prints a traceback for each one the machine lacks: the mtdev touch provider needs
libmtdev, the X11 clipboards need the xclip or xsel programs. A desktop rarely has
them and a tablet needs none of them (SDL2 brings touches and the clipboard), so the
app tells Kivy up front what is there instead of letting it fail loudly.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import sys
import types

MTDEV_LIBRARY = "libmtdev.so.1"  # the file kivy/lib/mtdev.py loads
MTDEV_MODULE = "kivy.input.providers.mtdev"
X11_CLIPBOARDS = ("xclip", "xsel")


def has_mtdev() -> bool:
    """Tell whether libmtdev loads here, as Kivy's mtdev provider would load it."""
    try:
        ctypes.CDLL(MTDEV_LIBRARY)
    except OSError:
        return False
    return True


def x11_clipboard_tools() -> list[str]:
    """Return the X11 clipboard programs on PATH that Kivy can use (xclip, xsel)."""
    return [name for name in X11_CLIPBOARDS if shutil.which(name)]


class _NoCutBufferComplaint(logging.Filter):
    """Drop Kivy's report that no X11 cut buffer tool is installed.

    The cut buffer is X11's middle-click paste; copy and paste (Ctrl+C, Ctrl+V) use
    SDL2's clipboard, which is always there. Any other record passes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Cutbuffer: Unable to find any valuable")


def choose_providers() -> None:
    """Configure the input providers and clipboard; call before Kivy is imported."""
    if not sys.platform.startswith("linux"):
        return
    if not has_mtdev() and MTDEV_MODULE not in sys.modules:
        # Kivy imports the provider unconditionally and logs the failed import with a
        # traceback. An empty module in its place registers no provider, exactly what
        # the failed import leaves behind: a touchscreen found by probesysfs then uses
        # Kivy's own fallback, hidinput.
        sys.modules[MTDEV_MODULE] = types.ModuleType(
            MTDEV_MODULE, "Kivy's mtdev provider: not available (libmtdev is not installed)."
        )
    tools = x11_clipboard_tools()
    if not tools:
        # Straight to SDL2's clipboard, without starting programs that are not there.
        os.environ.setdefault("KIVY_CLIPBOARD", "sdl2,dummy")
        from kivy.logger import Logger

        Logger.addFilter(_NoCutBufferComplaint())
