"""The player's state and background jobs, without widgets.

``scoreboard`` (prompts, vectors, per-frame scores), ``clock`` (which frame is due), ``frames``,
``geometry`` and ``display`` (decoding frames for the video box, fitting them into cells, and
which decoded frame is still wanted), ``stats`` (counters), ``context`` and ``services`` (what
the background jobs share, and their bodies), ``background`` (the object the player screen owns
that runs those jobs as thread workers and applies what they report), ``messages`` (what the jobs
post). Imports ``core``, ``config`` and ``server``, never a widget or a screen
(``tests/unit/test_layers.py`` enforces it).
"""
