"""Command line: argument parsing, subcommands and exit codes.

``clipvi-tui [VIDEO] [-p PROMPT ...]`` opens the terminal app; ``index``, ``export`` and ``serve``
are subcommands. Every failure a user can cause ends in one line on stderr and a non-zero exit:
2 for usage, input and configuration, 3 when the Inference server is unreachable or failing,
130 on Ctrl-C. The TUI and the server package are imported only by the commands that need them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from clipvi_tui import __version__

if TYPE_CHECKING:
    from clipvi_tui.config import Settings

from clipvi_tui.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, exit_code_for

SUBCOMMANDS = ("index", "export", "serve")


class UsageError(Exception):
    """Bad command-line input; ``str()`` is the message."""


def _common(parser: argparse.ArgumentParser, prompts: bool = True) -> None:
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
    _common(app)
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
    _common(index)
    export = cmds.add_parser("export", help="write per-frame similarity scores as CSV or JSON")
    export.add_argument("video", nargs="?", help="video file (default: video_path in config)")
    _common(export)
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


def _settings(args: argparse.Namespace) -> Settings:
    from clipvi_tui.config import load_settings

    return load_settings(
        {
            "config": args.config,
            "api_url": args.api_url,
            "api_key": args.api_key,
            "clip_version": args.clip_version,
            "sample_fps": args.sample_fps,
            "cache_dir": args.cache_dir,
            "prompts": args.prompts,
            "video_path": args.video,
            "server": args.server,
            "model_dir": args.model_dir,
            **({"graphics": args.graphics} if getattr(args, "graphics", None) else {}),
        }
    )


def _video(settings: Settings) -> Path:
    if settings.video_path is None:
        raise UsageError("no video given (pass VIDEO or set video_path in config.yaml)")
    if not settings.video_path.is_file():
        raise UsageError(f"video not found: {settings.video_path}")
    return Path(settings.video_path)


@contextmanager
def server_for(settings: Settings, say: Callable[[str], object] = print) -> Iterator[None]:
    """Start an embedded Inference server for the run if the settings call for one.

    Updates ``settings.api_url`` to point at it, and stops it afterwards.
    """
    from clipvi_tui.embedded import EmbeddedServer, should_start

    if not should_start(settings.api_url, settings.server):
        yield
        return
    server = EmbeddedServer(settings.model_dir, settings.clip_version)
    say(
        f"clipvi-tui: no Inference server at {settings.api_url}; starting one on "
        f"{server.api_url} (takes about 10 s)...",
    )
    server.start()
    try:
        server.wait_ready()
        settings.api_url = server.api_url
        yield
    finally:
        server.stop()


def _cmd_index(args: argparse.Namespace) -> int:
    from clipvi_tui.commands import run_index

    settings = _settings(args)
    video = _video(settings)
    with server_for(settings, say=lambda m: print(m, file=sys.stderr)):
        result = run_index(settings, video, settings.prompts)
    rate = result.embedded_now / result.seconds if result.seconds > 0 else 0.0
    print(
        f"{video.name}: {result.progress.done}/{result.progress.total} frames cached "
        f"({result.embedded_now} embedded now in {result.seconds:.1f} s, {rate:.1f} frames/s)",
        file=sys.stderr,
    )
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from clipvi_tui.commands import format_csv, format_json, make_client, scores_for

    settings = _settings(args)
    video = _video(settings)
    if not settings.prompts:
        raise UsageError("export needs at least one prompt (-p PROMPT or CLIP in config.yaml)")
    fmt = args.format or ("json" if (args.output or "").endswith(".json") else "csv")
    with server_for(settings, say=lambda m: print(m, file=sys.stderr)):
        client = make_client(settings)
        table = scores_for(settings, video, settings.prompts, client=client)
    if fmt == "csv":
        text = format_csv(table)
    else:
        text = format_json(table, video, client.model_id, settings.sample_fps)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    from clipvi_tui.config import load_settings
    from clipvi_tui.server import serve

    settings = load_settings({"config": args.config})
    model_dir = Path(args.model_dir) if args.model_dir else settings.model_dir
    extra: dict[str, Path] = {}
    for item in args.extra_model:
        version, sep, folder = item.partition("=")
        if not sep or not version or not folder:
            raise UsageError(f"--extra-model wants VERSION=DIR, not {item!r}")
        extra[version] = Path(folder)
    serve(
        host=args.host,
        port=args.port,
        model_dir=model_dir,
        clip_version=args.clip_version or settings.clip_version,
        extra_models=extra,
    )
    return EXIT_OK


def _cmd_app(args: argparse.Namespace) -> int:
    settings = _settings(args)
    video = _video(settings)
    from clipvi_tui.app_launcher import launch

    return launch(settings, video)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``clipvi-tui`` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    app_parser, sub_parser = build_parsers()
    try:
        if argv and argv[0] in SUBCOMMANDS:
            args = sub_parser.parse_args(argv)
            handler = {"index": _cmd_index, "export": _cmd_export, "serve": _cmd_serve}
            return handler[args.command](args)
        return _cmd_app(app_parser.parse_args(argv))
    except SystemExit as exc:  # argparse: --help, --version, or a usage error (code 2)
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
    except KeyboardInterrupt:
        print("clipvi-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        code, message = exit_code_for(exc)
        print(f"clipvi-tui: {message}", file=sys.stderr)
        return code
