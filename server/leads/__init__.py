"""Leads captured at the booth, their lifecycle and their timeline."""
