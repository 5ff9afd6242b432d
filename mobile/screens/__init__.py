"""The app's screens, by name; each has its layout in mobile/kv/<name>.kv."""

from __future__ import annotations

from kivy.uix.screenmanager import Screen

from mobile.screens.capture import CaptureScreen
from mobile.screens.home import HomeScreen
from mobile.screens.lead import LeadScreen
from mobile.screens.leads import LeadsScreen
from mobile.screens.pairing import PairingScreen
from mobile.screens.settings import SettingsScreen
from mobile.screens.staff import StaffScreen

SCREENS: dict[str, type[Screen]] = {
    "pairing": PairingScreen,
    "staff": StaffScreen,
    "home": HomeScreen,
    "capture": CaptureScreen,
    "leads": LeadsScreen,
    "lead": LeadScreen,
    "settings": SettingsScreen,
}
