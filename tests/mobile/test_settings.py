"""The tablet's own settings file next to its store."""

from __future__ import annotations

from pathlib import Path

import pytest

from mobile.settings import DEFAULTS, LocalSettings, settings_path


def test_values_survive_a_restart(tmp_path: Path) -> None:
    path = settings_path(tmp_path / "tablet.sqlite3")
    assert path == tmp_path / "tablet.settings.json"
    settings = LocalSettings(path)
    assert settings.get("kiosk") is False and settings.get("staff_id") is None
    settings.update(staff_id=5, staff_name="Sam", kiosk=True)
    again = LocalSettings(path)
    assert (again.get("staff_id"), again.get("staff_name"), again.get("kiosk")) == (5, "Sam", True)
    assert not list(tmp_path.glob("*.tmp"))


def test_a_damaged_file_means_defaults(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{not json")
    assert {key: LocalSettings(path).get(key) for key in DEFAULTS} == DEFAULTS
    path.write_text('["a list"]')
    assert LocalSettings(path).get("kiosk") is False


def test_unknown_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        LocalSettings(tmp_path / "s.json").update(colour="red")


def test_staff_must_be_on_the_team(tmp_path: Path) -> None:
    settings = LocalSettings(tmp_path / "s.json")
    members = [{"id": 5, "name": "Sam", "role": "staff"}]
    assert not settings.staff_is_member(members)
    settings.update(staff_id=5)
    assert settings.staff_is_member(members)
    assert not settings.staff_is_member([{"id": 6}])
