"""Run the tablet app: python -m mobile [--store PATH] [--server URL] [--frames DIR]."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m mobile", description=__doc__)
    parser.add_argument("--store", help="the tablet's database file (default: app data folder)")
    parser.add_argument("--server", help="server address to offer when pairing")
    parser.add_argument(
        "--frames",
        help="a folder of images seen instead of a camera (desktop): badges, business cards",
    )
    parser.add_argument("--size", default="1280x800", help="window size on a desktop")
    return parser.parse_args(argv)


def configure_kivy(size: str = "1280x800") -> None:
    """Set Kivy up before it is imported: our arguments, a tablet-sized window, quiet logs."""
    level = os.environ.get("LEADBRIDGE_LOG_LEVEL", "warning")
    # Kivy reads sys.argv and writes log files unless told not to; KCFG_* settings
    # apply while Kivy is being imported, before Config could be changed.
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KCFG_KIVY_LOG_LEVEL", level)
    # Every setting the app needs is made here, in code: a config.ini in the Kivy home
    # would only be a stale copy, announced with warnings on the first start.
    os.environ.setdefault("KIVY_NO_CONFIG", "1")
    # Kivy's logger is Python's "kivy" logger; its level applies only once Kivy has
    # read its configuration, after the first messages of the import.
    logging.getLogger("kivy").setLevel(getattr(logging, level.upper(), logging.WARNING))
    from mobile.providers import choose_providers

    choose_providers()
    from kivy.config import Config
    from kivy.logger import LOG_LEVELS, Logger

    Logger.setLevel(LOG_LEVELS.get(level, LOG_LEVELS["warning"]))
    # Kivy routes Python logging to its console: a request log per sync is noise.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    width, _, height = size.partition("x")
    Config.set("graphics", "width", width)
    Config.set("graphics", "height", height)
    Config.set("graphics", "resizable", "1")
    # No multisampling: flat shapes look the same, and software GL renders far faster.
    Config.set("graphics", "multisamples", "0")
    # Fingers, not mice: no red multitouch-emulation dots on right click.
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "0")


def main(argv: Sequence[str] | None = None) -> int:
    """Start the app."""
    args = parse_args(argv)
    configure_kivy(args.size)
    from mobile.app import LeadBridgeApp

    source = None
    if args.frames:
        from mobile.scanning import ImageFileSource

        source = ImageFileSource(args.frames)
    LeadBridgeApp(args.store, server_url=args.server, frame_source=source).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
