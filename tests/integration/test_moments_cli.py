"""Finding moments on the command line, against ground truth, through the real Inference server.

Fresh synthetic videos (seeds that neither the committed sample nor the demo model's training
used) are rendered here; ``export --segments`` with its default settings must recover where each
object is visible (temporal IoU), give prompts for absent objects no segment at all, and
``search`` must return distinct moments inside the truth.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clipvi_tui.synthetic.truth import GroundTruth
from clipvi_tui.synthetic.world import render_video
from tests.conftest import InferenceServer
from tests.support.moments_truth import (
    absent_prompts,
    parse_segments_csv,
    present_prompts,
    segment_ious,
)

pytestmark = pytest.mark.integration

# Held-out seeds: bench/segment_iou.py measured 0.863 and 0.845 on them (see the README).
IOU_SEEDS = (11, 33)


def clipvi(server: InferenceServer, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI against the test server's demo model, the way a user does."""
    assert server.demo_version, "models/shapes-demo is missing from the repository"
    cmd = [sys.executable, "-m", "clipvi_tui", *args]
    cmd += ["--api-url", server.url, "--clip-version", server.demo_version, "--server", "external"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return out


def prompt_args(prompts: list[str]) -> list[str]:
    return [arg for p in prompts for arg in ("-p", p)]


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Path, GroundTruth]]:
    folder = tmp_path_factory.mktemp("moments")
    out = {}
    for seed in IOU_SEEDS:
        path = folder / f"seed{seed}.mp4"
        out[seed] = (path, render_video(path, seed=seed, seconds=20.0, fps=10.0))
    return out


@pytest.mark.parametrize("seed", IOU_SEEDS)
def test_default_segments_recover_the_visible_intervals(
    inference_server: InferenceServer, videos: dict[int, tuple[Path, GroundTruth]], seed: int
) -> None:
    """Given a fresh video, export --segments with default settings (raw view, auto threshold,
    5 fps) has a mean IoU ≥ 0.8 over the prompts of the objects shown, and every prompt for a
    colour+shape that never appears gets no segment."""
    video, truth = videos[seed]
    present, absent = present_prompts(truth), absent_prompts(truth)
    out = clipvi(
        inference_server, "export", str(video), "--segments", *prompt_args([*present, *absent])
    )
    segments = parse_segments_csv(out.stdout)
    assert out.stdout.splitlines()[0] == (
        "prompt,start_frame,end_frame,start_s,end_s,peak_frame,peak_s,peak_score,mean_score"
    )
    ious = segment_ious(segments, truth)
    mean = sum(ious.values()) / len(ious)
    print(
        f"seed {seed}: mean IoU {mean:.3f}", json.dumps({p: round(v, 3) for p, v in ious.items()})
    )
    assert mean >= 0.8, ious
    assert not [p for p in absent if p in segments], f"absent prompts got segments: {segments}"


def test_an_absent_colour_says_no_segment_in_json(
    inference_server: InferenceServer, videos: dict[int, tuple[Path, GroundTruth]]
) -> None:
    """The JSON export names the view and smoothing, and an absent colour's threshold is null."""
    video, truth = videos[IOU_SEEDS[0]]
    colours = {o.color for o in truth.objects}
    absent = absent_prompts(truth)[0]
    assert absent.split()[1] not in colours, "the first absent prompt has an absent colour"
    present = next(iter(present_prompts(truth)))
    out = clipvi(
        inference_server,
        "export",
        str(video),
        "--segments",
        "--format",
        "json",
        "--smooth",
        "0.4",
        *prompt_args([present, absent]),
    )
    doc = json.loads(out.stdout)
    assert list(doc) == ["video", "model", "view", "smooth_s", "thresholds", "segments"]
    assert doc["view"] == "raw" and doc["smooth_s"] == 0.4
    assert doc["thresholds"][absent] is None and doc["thresholds"][present] is not None
    assert {s["prompt"] for s in doc["segments"]} == {present}
    for s in doc["segments"]:
        assert s["start_frame"] <= s["peak_frame"] <= s["end_frame"]
        assert s["start_s"] <= s["peak_s"] <= s["end_s"]


@pytest.fixture(scope="module")
def three_times(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    """30 s with a red circle in three different scenes (three separate visible intervals)."""
    path = tmp_path_factory.mktemp("search") / "three.mp4"
    truth = render_video(path, seed=11, seconds=30.0, fps=10.0, include=[("red", "circle")] * 3)
    return path, truth


def test_search_top_three_are_distinct_moments_inside_the_truth(
    inference_server: InferenceServer,
    three_times: tuple[Path, GroundTruth],
    videos: dict[int, tuple[Path, GroundTruth]],
) -> None:
    """search ranks moments across videos: the top 3 for "a red circle" lie in the three
    intervals where a red circle is visible, one in each, not three frames of one moment."""
    video, truth = three_times
    other, other_truth = videos[IOU_SEEDS[1]]
    assert not other_truth.visible("red", "circle").any(), "the second video has no red circle"
    out = clipvi(
        inference_server,
        "search",
        "a red circle",
        str(video),
        str(other),
        "-k",
        "3",
        "--format",
        "json",
    )
    doc = json.loads(out.stdout)
    assert list(doc) == ["query", "model", "hits"] and doc["query"] == "a red circle"
    hits = doc["hits"]
    assert len(hits) == 3
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    intervals = [
        iv for o in truth.objects if (o.color, o.shape) == ("red", "circle") for iv in o.intervals
    ]
    assert len(intervals) == 3
    used = set()
    for h in hits:
        assert list(h) == ["video", "frame", "time_s", "start_s", "end_s", "score"]
        assert h["video"] == str(video)
        inside = [k for k, (a, b) in enumerate(intervals) if a <= h["frame"] <= b]
        assert inside, f"hit at frame {h['frame']} is outside every red-circle interval"
        used.add(inside[0])
    assert len(used) == 3, f"hits are not three distinct moments: {hits}"
    assert (
        "3 moment(s)"
        in clipvi(inference_server, "search", "a red circle", str(video), "-k", "3").stdout
    )


def test_search_like_a_frame_finds_that_moment_first(
    inference_server: InferenceServer, three_times: tuple[Path, GroundTruth]
) -> None:
    """--like VIDEO@SECONDS uses the frame as the query: its own moment comes first."""
    video, truth = three_times
    (a, b) = next(o for o in truth.objects if (o.color, o.shape) == ("red", "circle")).intervals[0]
    when = (a + b) / 2 / truth.fps
    out = clipvi(
        inference_server,
        "search",
        "--like",
        f"{video}@{when}",
        str(video),
        "-k",
        "2",
        "--format",
        "json",
    )
    hits = json.loads(out.stdout)["hits"]
    assert hits[0]["start_s"] <= when <= hits[0]["end_s"] and hits[0]["score"] > 0.99


def test_spikes_mark_where_an_object_enters(
    inference_server: InferenceServer, videos: dict[int, tuple[Path, GroundTruth]]
) -> None:
    """export --spikes lists (prompt, frame, time_s, change); an object entering the frame is a
    rise within half a second of where the truth says it became visible."""
    video, truth = videos[IOU_SEEDS[0]]
    prompt, (color, shape) = next(iter(present_prompts(truth).items()))
    out = clipvi(inference_server, "export", str(video), "--spikes", *prompt_args([prompt]))
    lines = out.stdout.splitlines()
    assert lines[0] == "prompt,frame,time_s,change"
    rises = [float(row.split(",")[2]) for row in lines[1:] if float(row.split(",")[3]) > 0]
    visible = truth.visible(color, shape)
    starts = [k for k in range(1, len(visible)) if visible[k] and not visible[k - 1]]
    assert starts, "the object enters at least once"
    for k in starts:
        assert any(abs(t - k / truth.fps) <= 0.5 for t in rises), (k, rises)
