"""One handler per command: turn parsed arguments into settings, run, return an exit code.

The TUI and the server package are imported only by the commands that need them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from clipvi_tui.cli.errors import EXIT_OK, UsageError
from clipvi_tui.cli.inputs import local_video, refuse_url

if TYPE_CHECKING:
    from clipvi_tui.config import Settings
    from clipvi_tui.core.similarity import ScoreTable


def settings_from(args: argparse.Namespace) -> Settings:
    """Merge the parsed options with the environment and config.yaml into settings."""
    from clipvi_tui.cli.moments import apply_thresholds, moment_overrides
    from clipvi_tui.config import load_settings

    video = getattr(args, "video", None)
    if isinstance(video, list):  # `index PATH...`: one path is a video, more are a library
        video = video[0] if len(video) == 1 else None
    if video:
        refuse_url(video)  # before it becomes a (mangled) path in the settings
    settings = load_settings(
        {
            "config": args.config,
            "api_url": args.api_url,
            "api_key": args.api_key,
            "clip_version": args.clip_version,
            "sample_fps": args.sample_fps,
            "cache_dir": args.cache_dir,
            "prompts": args.prompts,
            "video_path": video,
            "server": args.server,
            "model_dir": args.model_dir,
            "batch_size": args.batch_size,
            "max_in_flight": args.max_in_flight,
            "timeout": args.timeout,
            **({"graphics": args.graphics} if getattr(args, "graphics", None) else {}),
            **moment_overrides(args),
            # App-only switches: given, they override config.yaml; absent, they say nothing.
            **({"autoplay": False} if getattr(args, "paused", False) else {}),
            **({"restore_session": False} if getattr(args, "fresh", False) else {}),
        }
    )
    apply_thresholds(settings, getattr(args, "threshold", []), settings.prompts)
    return settings


def settings_with_warnings(args: argparse.Namespace) -> Settings:
    """:func:`settings_from`, printing its warnings (unknown config keys) on stderr."""
    settings = settings_from(args)
    for warning in settings.warnings:
        print(f"clipvi-tui: warning: {warning}", file=sys.stderr)
    return settings


def video_of(settings: Settings, raw: str | None = None) -> Path:
    """The video to work on: VIDEO as typed (``raw``), else ``video_path`` from the settings.

    Raises:
        UsageError: if none is given, it is a URL, a folder, or does not exist.
    """
    if raw is not None:
        return local_video(raw)
    if settings.video_path is None:
        raise UsageError("no video given (pass VIDEO or set video_path in config.yaml)")
    return local_video(str(settings.video_path))


def run_index_command(args: argparse.Namespace) -> int:
    """``clipvi-tui index``: embed every sampled frame and the prompts, then say how far it got."""
    from clipvi_tui.cli.cached import from_cache
    from clipvi_tui.cli.indexing import run_index
    from clipvi_tui.cli.library import run_library_index_command, wants_library

    paths = list(args.video or [])
    if wants_library(paths):  # several paths, a folder or a glob
        library_args = argparse.Namespace(**{**vars(args), "video": None})
        return run_library_index_command(paths, args.jobs, settings_with_warnings(library_args))
    args.video = paths[0] if paths else None
    settings = settings_with_warnings(args)
    video = video_of(settings, args.video)
    cached = from_cache(settings, video, settings.prompts)
    if cached.complete:  # nothing to embed: no server contacted, none started
        print(
            f"{video.name}: {cached.cached_frames}/{len(cached.sampled)} frames cached "
            "(0 embedded now: everything was cached)",
            file=sys.stderr,
        )
        return EXIT_OK
    from clipvi_tui.server.embedded import serving

    with serving(settings, say=lambda m: print(m, file=sys.stderr)):
        result = run_index(settings, video, settings.prompts)
    rate = result.embedded_now / result.seconds if result.seconds > 0 else 0.0
    print(
        f"{video.name}: {result.progress.done}/{result.progress.total} frames cached "
        f"({result.embedded_now} embedded now in {result.seconds:.1f} s, {rate:.1f} frames/s)",
        file=sys.stderr,
    )
    return EXIT_OK


def run_export_command(args: argparse.Namespace) -> int:
    """``clipvi-tui export``: per-frame scores as CSV or JSON, to stdout or ``-o FILE``; with
    ``--vectors FILE.npz`` the frame vectors (and scores too only when ``-p`` is given)."""
    from clipvi_tui.cli.cached import cache_covers, from_cache
    from clipvi_tui.cli.indexing import make_client, scores_for
    from clipvi_tui.server.embedded import serving

    settings = settings_with_warnings(args)
    video = video_of(settings, args.video)
    scores_wanted = not args.vectors or bool(args.prompts)
    if scores_wanted and not settings.prompts:
        raise UsageError("export needs at least one prompt (-p PROMPT or CLIP in config.yaml)")
    # The cache first: a fully cached export contacts no server, starts none and does not
    # import inference-sdk, whatever it writes (scores, segments, spikes, vectors).
    if args.segments or args.spikes:
        from clipvi_tui.cli.moments import baseline_prompts_for, run_export_moments

        prompts = [*settings.prompts, *baseline_prompts_for(settings)]
        needed = not cache_covers(settings, [video], prompts)
        with serving(settings, say=lambda m: print(m, file=sys.stderr), needed=needed):
            _export_vectors(args, settings, video)
            return run_export_moments(args, settings, video)
    if not args.vectors:
        cached = from_cache(settings, video, settings.prompts).table
        if cached is not None:
            return _write_scores(args, cached, video, make_client(settings).model_id, settings)
    needed = not cache_covers(settings, [video], settings.prompts if scores_wanted else [])
    with serving(settings, say=lambda m: print(m, file=sys.stderr), needed=needed):
        _export_vectors(args, settings, video)
        if not scores_wanted:
            return EXIT_OK
        client = make_client(settings)
        table = scores_for(settings, video, settings.prompts, client=client)
    return _write_scores(args, table, video, client.model_id, settings)


def _export_vectors(args: argparse.Namespace, settings: Settings, video: Path) -> None:
    """``--vectors FILE.npz``: write the frame vectors (inside ``serving``), if asked for."""
    if args.vectors:
        from clipvi_tui.cli.vectors import export_vector_file, say

        say(export_vector_file(settings, video, Path(args.vectors)))


def _write_scores(
    args: argparse.Namespace, table: ScoreTable, video: Path, model_id: str, settings: Settings
) -> int:
    """Write ``table`` as CSV or JSON to ``-o FILE`` or stdout."""
    from clipvi_tui.cli.formats import format_csv, format_json, output_format, write_output

    if output_format(args) == "csv":
        text = format_csv(table)
    else:
        text = format_json(table, video, model_id, settings.sample_fps)
    write_output(text, args.output)
    return EXIT_OK


def run_search_command(args: argparse.Namespace) -> int:
    """``clipvi-tui search``: the k best moments for a text (or a frame) across videos."""
    from clipvi_tui.cli.moments import run_search

    return run_search(args, settings_with_warnings(args))


def run_import_vectors_command(args: argparse.Namespace) -> int:
    """``clipvi-tui import-vectors VIDEO FILE.npz``: cache vectors computed elsewhere."""
    from clipvi_tui.cli.vectors import import_vector_file, say

    settings = settings_from(argparse.Namespace(**{**vars(args), "prompts": []}))
    video = video_of(settings)
    say(import_vector_file(settings, video, Path(args.file), force=args.force))
    return EXIT_OK


def run_serve_command(args: argparse.Namespace) -> int:
    """``clipvi-tui serve``: run the real Inference server in this process until interrupted."""
    from clipvi_tui.config import load_settings
    from clipvi_tui.server.serve import serve

    settings = load_settings({"config": args.config})
    for warning in settings.warnings:
        print(f"clipvi-tui: warning: {warning}", file=sys.stderr)
    model_dir = Path(args.model_dir) if args.model_dir else settings.model_dir
    extra: dict[str, Path] = {}
    for item in args.extra_model:
        version, sep, folder = item.partition("=")
        if not sep or not version or not folder:
            raise UsageError(f"--extra-model wants VERSION=DIR, not {item!r}")
        extra[version] = Path(folder)
    from clipvi_tui.server.embedded import LOOPBACK_HOSTS

    if args.host not in LOOPBACK_HOSTS:
        print(
            f"clipvi-tui: warning: serving on {args.host}, not only this machine: anyone who "
            f"can reach port {args.port} can use the server; the default --host 127.0.0.1 "
            "keeps it local",
            file=sys.stderr,
        )
    serve(
        host=args.host,
        port=args.port,
        model_dir=model_dir,
        clip_version=args.clip_version or settings.clip_version,
        extra_models=extra,
    )
    return EXIT_OK


def run_app_command(args: argparse.Namespace) -> int:
    """``clipvi-tui [VIDEO | FOLDER]``: open the terminal app (a folder opens the library)."""
    from clipvi_tui.cli.library import wants_library

    if args.video and wants_library([args.video]):
        from clipvi_tui.core.library import find_videos
        from clipvi_tui.launcher import launch_library

        folder = Path(args.video).expanduser()
        settings = settings_with_warnings(argparse.Namespace(**{**vars(args), "video": None}))
        videos = find_videos([args.video])
        return launch_library(settings, videos, folder.resolve() if folder.is_dir() else None)
    settings = settings_with_warnings(args)
    video = video_of(settings, args.video)
    from clipvi_tui.launcher import launch

    return launch(settings, video)
