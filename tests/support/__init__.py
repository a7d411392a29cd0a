"""Helpers shared by the test suites: generated videos, the tiny test model, a counting proxy."""
