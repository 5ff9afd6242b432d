"""The leadbridge tablet app: Kivy screens over the Kivy-free sync/ package.

Modules without Kivy (forms, leadlist, status, syncing, scanning, settings) hold the
app's logic so tests can run it without a window; app.py, widgets.py and screens/
are the thin Kivy layer, laid out in kv/.
"""
