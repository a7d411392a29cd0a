"""Arguments of ``clipvi-tui`` (the app) and of its subcommands.

Two parsers, because the app takes an optional positional VIDEO that argparse would confuse with
a subcommand name: ``main`` picks the subcommand parser when the first word is a subcommand.

A usage error is one line like every other error (``clipvi-tui: argument --port: …``), not
argparse's usage block; ``--help`` shows the usage.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from clipvi_tui import __version__

SUBCOMMANDS = ("index", "export", "search", "serve", "import-vectors")


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``clipvi-tui: <message> (see --help)`` and exit 2."""
        print(f"clipvi-tui: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def port_number(text: str) -> int:
    """A TCP port, 1-65535 (argparse ``type``)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be a number 1-65535, not {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 1-65535, not {port}")
    return port


def add_common_options(parser: argparse.ArgumentParser, prompts: bool = True) -> None:
    """The settings options every command but ``serve`` takes, and ``-p PROMPT`` if wanted."""
    g = parser.add_argument_group("settings (command line > environment > config.yaml)")
    g.add_argument("--config", metavar="PATH", help="config file (default: ./config.yaml)")
    g.add_argument(
        "--api-url",
        action="append",
        metavar="URL",
        help="Inference server URL (default http://localhost:9001); repeat, or separate with "
        "commas, to spread the work over several servers",
    )
    g.add_argument(
        "--batch-size", metavar="N", help="images per request to each server (default 8)"
    )
    g.add_argument("--max-in-flight", metavar="N", help="requests in flight per server (default 3)")
    g.add_argument("--api-key", help="Roboflow API key (or ROBOFLOW_API_KEY)")
    g.add_argument("--clip-version", help="CLIP model version (default ViT-B-16)")
    g.add_argument(
        "--sample-fps", metavar="N|all", help="frames per second to embed (default 5; all = every)"
    )
    g.add_argument("--cache-dir", metavar="DIR", help="embedding cache folder")
    g.add_argument(
        "--server",
        choices=("auto", "external"),
        help="auto: start a local Inference server if none answers (default); external: never",
    )
    g.add_argument(
        "--model-dir", metavar="DIR", help="ONNX pair the auto-started server serves offline"
    )
    g.add_argument(
        "--timeout",
        metavar="SECONDS",
        help="how long one request to the Inference server may take (default 30)",
    )
    if prompts:
        parser.add_argument(
            "-p",
            "--prompt",
            dest="prompts",
            action="append",
            default=[],
            metavar="PROMPT",
            help="a text prompt; repeat for more (default: CLIP list in config.yaml)",
        )


def add_moment_options(parser: argparse.ArgumentParser, *, segments: bool = True) -> None:
    """The options of finding moments (defaults: config.yaml, see the README's config table)."""
    from clipvi_tui.core.views import VIEWS

    g = parser.add_argument_group("moments (defaults from config.yaml)")
    g.add_argument("--view", choices=VIEWS, help="score view (default raw)")
    if not segments:
        return
    g.add_argument(
        "--smooth", metavar="SECONDS", help="centred moving average window (default 0 = off)"
    )
    g.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="VALUE|PROMPT=VALUE",
        help="auto, a fixed threshold in the view's units, or one for a single prompt "
        "(repeatable; default auto)",
    )
    g.add_argument("--max-gap", metavar="SECONDS", help="bridge gaps this short (default 1)")
    g.add_argument(
        "--min-length",
        metavar="SECONDS",
        help="drop shorter segments, first to last frame (default 0.4)",
    )
    g.add_argument("--pad", metavar="SECONDS", help="widen segments on both sides (default 0)")


def build_parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The app parser and the subcommand parser."""
    app = OneLineParser(
        prog="clipvi-tui",
        description=(
            "Watch a video in the terminal with a live chart of how similar each frame is to "
            "your text prompts (CLIP, via a Roboflow Inference server). "
            "Subcommands: index, export, search, serve (see clipvi-tui SUBCOMMAND --help)."
        ),
    )
    app.add_argument("--version", action="version", version=f"clipvi-tui {__version__}")
    app.add_argument(
        "video",
        nargs="?",
        help="video file, or a folder to open as a library (default: video_path in config.yaml)",
    )
    add_common_options(app)
    app.add_argument(
        "--graphics",
        choices=("auto", "kitty", "sixel", "halfcell", "unicode"),
        help="how to draw the video (default auto-detect)",
    )
    add_moment_options(app)
    app.add_argument(
        "--paused", action="store_true", help="open paused (default: play; config autoplay)"
    )
    app.add_argument(
        "--fresh",
        action="store_true",
        help="ignore the prompts saved for this video last time (config restore_session)",
    )

    sub = OneLineParser(prog="clipvi-tui")
    sub.add_argument("--version", action="version", version=f"clipvi-tui {__version__}")
    cmds = sub.add_subparsers(dest="command", required=True)
    index = cmds.add_parser(
        "index", help="embed every sampled frame of a video or a library, and the prompts"
    )
    index.add_argument(
        "video",
        nargs="*",
        metavar="PATH",
        help="video files, folders (searched recursively for videos) or globs "
        "(default: video_path in config)",
    )
    add_common_options(index)
    index.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="videos indexed at once (default 1)"
    )
    export = cmds.add_parser("export", help="write per-frame similarity scores as CSV or JSON")
    export.add_argument("video", nargs="?", help="video file (default: video_path in config)")
    add_common_options(export)
    export.add_argument("--format", choices=("csv", "json"), default=None, help="default csv")
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    what = export.add_mutually_exclusive_group()
    what.add_argument(
        "--segments",
        action="store_true",
        help="export each prompt's segments (start, end, peak) instead of per-frame scores",
    )
    what.add_argument(
        "--spikes",
        action="store_true",
        help="export the spikes of each curve (frame differencing) instead of scores",
    )
    add_moment_options(export)
    search = cmds.add_parser(
        "search",
        help="rank the best moments for a text (or a frame) across videos",
        usage="clipvi-tui search [options] QUERY VIDEO [VIDEO ...]\n"
        "       clipvi-tui search [options] --like VIDEO@SECONDS VIDEO [VIDEO ...]",
    )
    search.add_argument(
        "items",
        nargs="+",
        metavar="QUERY VIDEO",
        help="the text query, then one or more videos (with --like: only videos)",
    )
    add_common_options(search)
    search.add_argument("-k", type=int, default=None, help="how many moments (default 10)")
    search.add_argument("--format", choices=("text", "json"), default="text", help="default text")
    search.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    search.add_argument(
        "--like",
        metavar="VIDEO@SECONDS",
        help="use the frame of VIDEO at SECONDS (or M:SS) as the query instead of text",
    )
    add_moment_options(search, segments=False)
    export.add_argument(
        "--vectors",
        metavar="FILE.npz",
        help="write every sampled frame's vector (with frame index, time, model id and "
        "preprocessing) to FILE.npz instead of scores; scores too when -p is given",
    )
    imports = cmds.add_parser(
        "import-vectors",
        help="load frame vectors computed elsewhere (an .npz) into the cache",
    )
    imports.add_argument("video", help="the video the vectors belong to")
    imports.add_argument("file", metavar="FILE.npz", help="vectors, as export --vectors writes")
    add_common_options(imports, prompts=False)
    imports.add_argument(
        "--force", action="store_true", help="accept a file exported from another video file"
    )
    serve = cmds.add_parser("serve", help="run the Roboflow Inference server (needs [server])")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="bind address (default 127.0.0.1: this machine only; anything else is warned about)",
    )
    serve.add_argument("--port", type=port_number, default=9001, help="port (default 9001)")
    serve.add_argument("--model-dir", metavar="DIR", help="folder with visual.onnx, textual.onnx")
    serve.add_argument("--clip-version", default=None, help="serve the pair as clip/VERSION")
    serve.add_argument(
        "--extra-model",
        action="append",
        default=[],
        metavar="VERSION=DIR",
        help="also serve the ONNX pair in DIR as clip/VERSION (repeatable)",
    )
    serve.add_argument("--config", metavar="PATH", help="config file (clip_version, model_dir)")
    return app, sub
