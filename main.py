"""Entry point buildozer packages for the Android tablet build; runs the booth app."""

from mobile.__main__ import main

main()
