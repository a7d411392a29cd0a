"""Arguments of ``clipvi-tui`` (the app) and of its subcommands.

Two parsers, because the app takes an optional positional VIDEO that argparse would confuse with
a subcommand name: ``main`` picks the subcommand parser when the first word is a subcommand.
"""

from __future__ import annotations

import argparse

from clipvi_tui import __version__

SUBCOMMANDS = ("index", "export", "serve")


def add_common_options(parser: argparse.ArgumentParser, prompts: bool = True) -> None:
    """The settings options every command but ``serve`` takes, and ``-p PROMPT`` if wanted."""
    g = parser.add_argument_group("settings (command line > environment > config.yaml)")
    g.add_argument("--config", metavar="PATH", help="config file (default: ./config.yaml)")
    g.add_argument("--api-url", help="Inference server URL (default http://localhost:9001)")
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


def build_parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The app parser and the subcommand parser."""
    app = argparse.ArgumentParser(
        prog="clipvi-tui",
        description=(
            "Watch a video in the terminal with a live chart of how similar each frame is to "
            "your text prompts (CLIP, via a Roboflow Inference server). "
            "Subcommands: index, export, serve (see clipvi-tui SUBCOMMAND --help)."
        ),
    )
    app.add_argument("--version", action="version", version=f"clipvi-tui {__version__}")
    app.add_argument("video", nargs="?", help="video file (default: video_path in config.yaml)")
    add_common_options(app)
    app.add_argument(
        "--graphics",
        choices=("auto", "kitty", "sixel", "halfcell", "unicode"),
        help="how to draw the video (default auto-detect)",
    )

    sub = argparse.ArgumentParser(prog="clipvi-tui")
    sub.add_argument("--version", action="version", version=f"clipvi-tui {__version__}")
    cmds = sub.add_subparsers(dest="command", required=True)
    index = cmds.add_parser("index", help="embed every sampled frame and the prompts")
    index.add_argument("video", nargs="?", help="video file (default: video_path in config)")
    add_common_options(index)
    export = cmds.add_parser("export", help="write per-frame similarity scores as CSV or JSON")
    export.add_argument("video", nargs="?", help="video file (default: video_path in config)")
    add_common_options(export)
    export.add_argument("--format", choices=("csv", "json"), default=None, help="default csv")
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    serve = cmds.add_parser("serve", help="run the Roboflow Inference server (needs [server])")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=9001, help="port (default 9001)")
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
