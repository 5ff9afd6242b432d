"""Act on the running app as a person would: tap what is on screen, type, look.

Imported only inside the driver subprocess, after Kivy is configured. A scenario is
a generator: it yields a number to sleep, or a Wait; UI actions that need a frame in
between (scrolling a field into view before tapping it) are generators themselves,
used with ``yield from``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.tests.common import UnitTestTouch
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

Step = Generator[Any, None, None]


@dataclass
class Wait:
    """Pause the scenario until check() is true; fail after timeout seconds."""

    check: Callable[[], Any]
    what: str
    timeout: float = 20.0


class ScenarioFailed(AssertionError):
    """A scenario step did not happen in time, or saw the wrong thing."""


class Runner:
    """Advance a scenario generator from Kivy's clock until it ends or fails."""

    def __init__(self, app: Any, scenario: Iterator[Any], on_end: Callable[[str | None], None]):
        self.app = app
        self.scenario = scenario
        self.on_end = on_end
        self._wait: Wait | None = None
        self._wait_until = 0.0
        self._sleep_until = 0.0
        self._event = Clock.schedule_interval(self._tick, 0)

    def _finish(self, error: str | None) -> None:
        self._event.cancel()
        self.on_end(error)

    def _tick(self, _dt: float) -> None:
        now = time.monotonic()
        if now < self._sleep_until:
            return
        try:
            if self._wait is not None:
                if not self._wait.check():
                    if now > self._wait_until:
                        raise ScenarioFailed(f"timed out waiting for {self._wait.what}")
                    return
                self._wait = None
            step = next(self.scenario)
        except StopIteration:
            self._finish(None)
            return
        except Exception as error:
            import traceback

            self._finish("".join(traceback.format_exception(error)))
            return
        if isinstance(step, Wait):
            print(f"scenario: waiting for {step.what}", file=sys.stderr, flush=True)
            self._wait = step
            self._wait_until = now + step.timeout
        elif isinstance(step, int | float):
            self._sleep_until = now + step
        # None: carry on next frame


class UI:
    """Taps, typing and screenshots on the app's real window."""

    def __init__(self, app: Any, shots: Path):
        self.app = app
        self.shots = shots
        self.shots.mkdir(parents=True, exist_ok=True)
        self.taken: list[str] = []

    # -- looking ---------------------------------------------------------------------

    @property
    def screen(self) -> Any:
        """Return the screen on show."""
        return self.app.root.ids.screens.current_screen

    def on(self, name: str) -> Wait:
        """Wait until the named screen is on show."""
        return Wait(lambda: self.app.root.ids.screens.current == name, f"screen {name}")

    def shot(self, name: str) -> Step:
        """Let the window settle, then save a screenshot as <name>.png."""
        yield 0.4
        made = Window.screenshot(name=str(self.shots / f"{name}.png"))
        if made:
            target = self.shots / f"{name}.png"
            Path(made).replace(target)
            self.taken.append(target.name)

    # -- touching --------------------------------------------------------------------

    def _reveal(self, widget: Widget) -> ScrollView | None:
        parent = widget.parent
        # The window is its own parent: stop there.
        while parent is not None and parent is not Window and not isinstance(parent, ScrollView):
            parent = parent.parent
        # Kivy's Factory may load recycleview twice (as a package and as its __init__),
        # so tell a RecycleView by its layout manager, not by isinstance.
        if not isinstance(parent, ScrollView) or hasattr(parent, "layout_manager"):
            return None  # a RecycleView row exists only while it is on screen
        if parent is not None:
            parent.scroll_to(widget, padding=40, animate=False)
        return parent

    def tap(self, widget: Widget) -> Step:
        """Bring widget into view and tap its centre with a finger."""
        if self._reveal(widget) is not None:
            yield None  # one frame for the scroll to move the widget
            yield None
        if widget.disabled or widget.opacity == 0:
            raise ScenarioFailed(f"cannot tap {widget!r}: it is disabled or hidden")
        x, y = widget.to_window(*widget.center)
        if not (0 <= x <= Window.width and 0 <= y <= Window.height):
            raise ScenarioFailed(f"{widget!r} is off screen at {x:.0f},{y:.0f}")
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        yield None
        touch.touch_up()
        yield None

    def type(self, entry: Widget, text: str, *, replace: bool = True) -> Step:
        """Tap a text input and type text into it, as the keyboard would."""
        yield from self.tap(entry)
        entry.focus = True
        if replace:
            entry.select_all()
            entry.delete_selection()
        Window.dispatch("on_textinput", text)
        yield None

    def leave(self, entry: Widget) -> Step:
        """Move the focus away from a text input (the user taps elsewhere)."""
        entry.focus = False
        yield None

    # -- the lead form ---------------------------------------------------------------

    def field(self, key: str) -> Any:
        """Return a field widget of the current screen's lead form."""
        return self.screen.ids.form.fields[key]

    def fill_text(self, key: str, text: str) -> Step:
        """Type into a text field of the form and leave it."""
        entry = self.field(key).ids.entry
        yield from self.type(entry, text)
        yield from self.leave(entry)

    def choose(self, key: str, *labels: str) -> Step:
        """Tap the options with these labels in a choice field."""
        options = {child.text: child for child in self.field(key).ids.options.children}
        for label in labels:
            if label not in options:
                raise ScenarioFailed(f"{key} has no option {label!r}: {sorted(options)}")
            yield from self.tap(options[label])

    def tick(self, key: str) -> Step:
        """Tap a tick box field."""
        yield from self.tap(self.field(key).ids.tick)
