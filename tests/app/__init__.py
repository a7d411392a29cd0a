"""Pilot tests of the terminal app (and unit tests of its pure parts)."""
