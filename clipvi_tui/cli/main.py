"""Entry point of ``clipvi-tui``: dispatch, and where every failure becomes an exit code.

``clipvi-tui [VIDEO] [-p PROMPT ...]`` opens the terminal app; ``index``, ``export``, ``search``
and ``serve`` are subcommands. Every failure a user can cause ends in one line on stderr and a
non-zero exit: 2 for usage, input and configuration, 3 when the Inference server is unreachable
or failing, 4 when the cache cannot be used, 130 on Ctrl-C (see ``cli.errors``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

# OpenCV and its FFmpeg write their own lines to stderr ("moov atom not found", 75 × "header
# damaged") before our one-line message, and into the middle of the TUI. They read these when
# cv2 is first imported, which happens later, lazily; a user who set them keeps their value.
os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET

from clipvi_tui.cli import commands
from clipvi_tui.cli.errors import EXIT_INTERRUPTED, EXIT_USAGE, exit_code_for
from clipvi_tui.cli.parser import SUBCOMMANDS, build_parsers

HANDLERS = {
    "index": commands.run_index_command,
    "export": commands.run_export_command,
    "search": commands.run_search_command,
    "serve": commands.run_serve_command,
    "import-vectors": commands.run_import_vectors_command,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``clipvi-tui`` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    app_parser, sub_parser = build_parsers()
    try:
        if argv and argv[0] in SUBCOMMANDS:
            args = sub_parser.parse_args(argv)
            return HANDLERS[args.command](args)
        return commands.run_app_command(app_parser.parse_args(argv))
    except SystemExit as exc:  # argparse: --help, --version, or a usage error (code 2)
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
    except KeyboardInterrupt:
        print("clipvi-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        code, message = exit_code_for(exc)
        print(f"clipvi-tui: {message}", file=sys.stderr)
        return code
