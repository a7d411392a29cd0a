"""Screens of the app: the player (state and workers) and its modal dialogs.

Kept import-light: importing a submodule (e.g. the pure ``scoreboard``) must not pull in the rest.
"""
