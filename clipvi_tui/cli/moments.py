"""``export --segments``, ``export --spikes`` and ``search``: moments on the command line.

The same core functions as the app (:func:`clipvi_tui.core.analysis.analyse`,
:func:`clipvi_tui.core.search.search`) with the same settings, so both give the same answer.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from clipvi_tui.cli.cached import cache_covers
from clipvi_tui.cli.errors import EXIT_ERROR, EXIT_OK, UsageError
from clipvi_tui.cli.formats import output_format, write_output
from clipvi_tui.cli.indexing import make_client, scores_for, text_vectors
from clipvi_tui.cli.inputs import local_video
from clipvi_tui.cli.library import searchable_vectors, video_paths, video_vectors
from clipvi_tui.cli.moment_formats import (
    hits_json,
    hits_text,
    segments_csv,
    segments_json,
    spikes_csv,
    spikes_json,
)
from clipvi_tui.config import ConfigError, Settings, parse_threshold
from clipvi_tui.core.analysis import PromptMoments, analyse
from clipvi_tui.core.embeddings import EmbeddingClient
from clipvi_tui.core.prompts import canonical_prompt
from clipvi_tui.core.search import frame_vector, query_curve, search
from clipvi_tui.core.similarity import ScoreTable

# --option name → Settings field, for the options given as plain numbers of seconds.
SECONDS_OPTIONS = {
    "smooth": "smooth_s",
    "max_gap": "max_gap_s",
    "min_length": "min_length_s",
    "pad": "pad_s",
}


def moment_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The moment options given on the command line, as ``load_settings`` keys."""
    out: dict[str, Any] = {"view": getattr(args, "view", None)}
    for option, name in SECONDS_OPTIONS.items():
        out[name] = getattr(args, option, None)
    return out


def apply_thresholds(settings: Settings, items: list[str], prompts: list[str]) -> None:
    """Apply ``--threshold VALUE | PROMPT=VALUE`` options (``auto`` is a value too).

    Per-prompt values are added to those from config.yaml.

    Raises:
        UsageError: on a value that is not a number or ``auto``, or an unknown prompt.
    """
    for item in items:
        prompt, sep, value = item.rpartition("=")
        try:
            number = parse_threshold(value if sep else item)
        except ConfigError:
            raise UsageError(
                f"--threshold wants auto, a number or PROMPT=VALUE, not {item!r}"
            ) from None
        if not sep:
            settings.threshold = number
            continue
        name = canonical_prompt(prompt)
        if name not in prompts:
            raise UsageError(f"--threshold names {prompt!r}, which is not one of the prompts")
        settings.thresholds[name] = number


def baseline_prompts_for(settings: Settings) -> list[str]:
    """The baseline view's neutral prompts when that view is chosen, else none.

    Raises:
        UsageError: if the baseline view is chosen without baseline prompts.
    """
    if settings.view == "baseline" and not settings.baseline_prompts:
        raise UsageError("the baseline view needs baseline_prompts in config.yaml")
    return settings.baseline_prompts if settings.view == "baseline" else []


def analyse_video(
    settings: Settings, video: Path, client: EmbeddingClient
) -> tuple[ScoreTable, list[PromptMoments]]:
    """Index ``video`` if needed and find the moments of ``settings.prompts`` in it.

    Returns:
        The score table (prompts, then any baseline prompts) and each prompt's moments.
    """
    prompts = settings.prompts
    baselines = baseline_prompts_for(settings)
    table = scores_for(settings, video, [*prompts, *baselines], client=client)
    raw, base = table.scores[:, : len(prompts)], table.scores[:, len(prompts) :]
    found = analyse(
        raw,
        prompts,
        table.times,
        table.frames,
        settings.moment_settings(),
        base if baselines else None,
    )
    return table, found


def run_export_moments(args: argparse.Namespace, settings: Settings, video: Path) -> int:
    """``export --segments`` / ``export --spikes`` (inside ``serving``: a server answers)."""
    fmt = output_format(args)
    client = make_client(settings)
    table, found = analyse_video(settings, video, client)
    ms = settings.moment_settings()
    meta = {"video": str(video), "model": client.model_id, "view": ms.view, "smooth_s": ms.smooth_s}
    if args.segments:
        segments = [s for m in found for s in m.segments]
        thresholds = {m.prompt: m.threshold.value for m in found}
        text = (
            segments_csv(segments) if fmt == "csv" else segments_json(segments, thresholds, **meta)
        )
    else:
        spikes = [s for m in found for s in m.spikes(table.times, table.frames, ms.spike_k)]
        text = spikes_csv(spikes) if fmt == "csv" else spikes_json(spikes, ms.spike_k, **meta)
    write_output(text, args.output)
    return EXIT_OK


# -- search ---------------------------------------------------------------------------------------


def parse_clock(text: str) -> float:
    """Seconds from ``12.5``, ``1:02.5`` or ``1:02:03``.

    Raises:
        ValueError: if ``text`` is none of those, or negative.
    """
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3 or not all(p.strip() for p in parts):
        raise ValueError(text)
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + float(p)
    if seconds < 0 or seconds != seconds:
        raise ValueError(text)
    return seconds


def parse_like(spec: str) -> tuple[Path, float]:
    """``VIDEO@SECONDS`` → the video and the time.

    Raises:
        UsageError: on a malformed spec or a missing video.
    """
    video, sep, when = spec.rpartition("@")
    try:
        if not sep or not video:
            raise ValueError(spec)
        seconds = parse_clock(when)
    except ValueError:
        raise UsageError(f"--like wants VIDEO@SECONDS (e.g. clip.mp4@12.5), not {spec!r}") from None
    return local_video(video), seconds


def run_search(args: argparse.Namespace, settings: Settings) -> int:
    """``clipvi-tui search``: the k best moments for a text or a frame across videos."""
    from clipvi_tui.server.embedded import serving

    items = list(args.items)
    like = parse_like(args.like) if args.like else None
    query = None if like else canonical_prompt(items.pop(0))
    if not items:
        raise UsageError("search needs a query and at least one video (search QUERY VIDEO ...)")
    if query == "":
        raise UsageError("the search query is empty")
    videos = video_paths(items)  # files, folders and globs (a library)
    k = args.k if args.k is not None else settings.search_k
    if k < 1:
        raise UsageError(f"-k must be at least 1, not {k}")
    view = settings.view
    competitors: list[str] = []
    if like is not None and view in ("softmax", "baseline"):
        raise UsageError(
            f"--like compares frames with frames; use --view raw or zscore, not {view}"
        )
    if view == "softmax":
        competitors = [p for p in settings.prompts if p != query]
        if not competitors:
            raise UsageError("--view softmax ranks the query against other prompts: add -p PROMPT")
    elif view == "baseline":
        competitors = baseline_prompts_for(settings)
    # The cache first: every video indexed and the query cached → no server at all.
    needed = not cache_covers(
        settings,
        [*videos, *([like[0]] if like else [])],
        [] if like else [query or "", *competitors],
    )
    with serving(settings, say=lambda m: print(m, file=sys.stderr), needed=needed):
        client = make_client(settings)
        indexed, unsearched = searchable_vectors(settings, videos, client)
        if like is not None:
            source = indexed.get(like[0]) or video_vectors(settings, like[0], client)
            try:
                _, vector = frame_vector(source.vectors, source.times, like[1])
            except ValueError as exc:
                raise UsageError(f"{like[0]}: {exc}") from None
            queries = vector[None, :]
            label = args.like
        else:
            assert query is not None
            queries = text_vectors(settings, client, [query, *competitors])
            label = query
        curves = [query_curve(indexed[v], queries, view) for v in indexed]
    hits = search(curves, k)
    fmt = hits_json if args.format == "json" else hits_text
    write_output(fmt(hits, query=label, model=client.model_id), args.output)
    if unsearched:  # each was named on stderr while indexing
        print(
            f"clipvi-tui: {len(unsearched)} of {len(videos)} videos could not be searched",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return EXIT_OK
