"""Widgets of the player: video view, similarity chart, prompt panel, status bar.

They render what the screen gives them and post messages for clicks; none of them does I/O.
"""
