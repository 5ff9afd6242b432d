"""Tests of the web pages: access rules with Flask's test client, flows in a real browser."""
