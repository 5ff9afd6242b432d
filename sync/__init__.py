"""Device side of leadbridge sync, and the rules both tablet and server compute.

Nothing here imports Kivy or Flask: the tablet app and the server both import
these modules, so a rule (normalising contact data, validating answers) has
exactly one implementation.
"""
