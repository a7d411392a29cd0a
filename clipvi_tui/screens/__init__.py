"""Screens of the app, and only screens: the player, and its modal dialogs (help, add prompt).

State and background jobs live in :mod:`clipvi_tui.player`; what is drawn, in
:mod:`clipvi_tui.widgets`.
"""
