"""The command line: ``clipvi-tui [VIDEO]`` (the app) and its subcommands.

``main`` is the entry point (dispatch, one-line errors, exit codes); ``parser`` builds the
arguments; ``commands`` holds one handler per subcommand; ``indexing`` runs the headless
index/score pipeline; ``formats`` writes exports; ``progress`` draws the progress bar; ``errors``
maps every failure to a message and an exit code. Nothing else in the package imports this one.
"""

from clipvi_tui.cli.main import main

__all__ = ["main"]
