"""Tests of the tablet app: Kivy-free logic here, real-window scenarios in test_ui.py."""
