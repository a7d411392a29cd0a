"""The library screen's state and background jobs, without widgets.

``state`` (the videos and their indexed state, the search hits), ``jobs`` (scanning the library
and searching it, on worker threads, with the cache opened only while a job needs it), and
``messages`` (what the jobs post). Imports ``core``, ``config`` and ``server``, never a widget or
a screen (``tests/unit/test_layers.py`` enforces it).
"""
