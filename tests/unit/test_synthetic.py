"""Unit tests for ``clipvi_tui.synthetic``: the ground truth must match the pixels.

The synthetic world is what the demo model is trained on and what integration tests score
curves against, so its truth file has to be exactly right: deterministic from the seed, frame
counts equal to what OpenCV reads back, and an object reported visible must be there in colour.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from clipvi_tui.synthetic import shapes, truth, world
from clipvi_tui.synthetic.shapes import COLORS, SHAPES, VISIBLE_FRACTION
from clipvi_tui.synthetic.truth import GroundTruth
from clipvi_tui.synthetic.world import render_video


def _read_frames(path: Path) -> list[np.ndarray]:
    """All frames of a video as OpenCV decodes them."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def _hue_deg(bgr: tuple[int, int, int]) -> float:
    """Hue in degrees of one BGR colour."""
    hsv = cv2.cvtColor(np.array([[bgr]], dtype=np.uint8), cv2.COLOR_BGR2HSV)
    return float(hsv[0, 0, 0]) * 2.0


def _nearest_color(hues_deg: np.ndarray) -> np.ndarray:
    """Index into ``COLORS`` of the colour whose hue is nearest (circularly) to each hue."""
    ref = np.array([_hue_deg(c) for c in COLORS.values()])
    diff = np.abs(hues_deg[:, None] - ref[None, :]) % 360.0
    return np.minimum(diff, 360.0 - diff).argmin(1)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    """A 20 s clip guaranteed to hold a red circle, rendered once for the module."""
    path = tmp_path_factory.mktemp("synthetic") / "clip.mp4"
    truth = render_video(path, seed=11, seconds=20.0, include=[("red", "circle")])
    return path, truth


def test_catalogue_has_enough_colours_and_shapes() -> None:
    """Given the public catalogue, then it offers at least 5 colours and 4 shapes, BGR triples."""
    assert {"red", "green", "blue", "yellow", "purple"} <= set(COLORS), "core colours missing"
    assert {"circle", "square", "triangle", "star"} <= set(SHAPES), "core shapes missing"
    for name, bgr in COLORS.items():
        assert len(bgr) == 3 and all(0 <= v <= 255 for v in bgr), f"{name} is not a BGR triple"


def test_frame_count_size_and_fps_match_the_file(video: tuple[Path, GroundTruth]) -> None:
    """Given a rendered video, when OpenCV reads it back, then count, size and fps agree."""
    path, truth = video
    frames = _read_frames(path)
    assert len(frames) == truth.frame_count == 200, "every frame written must be readable"
    assert frames[0].shape == (truth.height, truth.width, 3), "frame size differs from truth"
    cap = cv2.VideoCapture(str(path))
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(truth.fps), "container fps differs"
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == truth.frame_count
    cap.release()


def test_json_round_trip(video: tuple[Path, GroundTruth]) -> None:
    """Given the JSON written next to the video, when loaded, then it equals the returned truth."""
    path, truth = video
    assert path.with_suffix(".json").exists(), "ground truth must be written next to the video"
    loaded = GroundTruth.from_json(path.with_suffix(".json"))
    assert loaded == truth, "from_json(to_json()) must be lossless"
    for a, b in zip(loaded.objects, truth.objects, strict=True):
        assert (loaded.visible(a.color, a.shape) == truth.visible(b.color, b.shape)).all()


def test_same_seed_same_video_other_seed_other_video(
    tmp_path: Path, video: tuple[Path, GroundTruth]
) -> None:
    """Given the same seed twice, then frames and truth are identical; another seed differs."""
    path, truth = video
    again = render_video(tmp_path / "again.mp4", seed=11, seconds=20.0, include=[("red", "circle")])
    assert again == truth, "ground truth must be a pure function of the arguments"
    first, second = _read_frames(path), _read_frames(tmp_path / "again.mp4")
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    other = render_video(tmp_path / "other.mp4", seed=12, seconds=20.0)
    assert other.to_dict()["objects"] != truth.to_dict()["objects"], "seeds must matter"


def test_included_pair_appears_with_and_without_stretches(video: tuple[Path, GroundTruth]) -> None:
    """Given include=red circle, then it is visible in some frames and absent in others."""
    _, truth = video
    flags = truth.visible("red", "circle")
    assert flags.sum() >= 10, "the requested red circle should be on screen for a while"
    assert (~flags).sum() >= 10, "there must be frames without it, to score a threshold"


def test_every_object_enters_or_exits_within_its_scene(video: tuple[Path, GroundTruth]) -> None:
    """Given any object, then its scene holds frames where it is not visible (entry or exit)."""
    _, truth = video
    for obj in truth.objects:
        scene = truth.scenes[obj.scene]
        in_scene = np.zeros(truth.frame_count, dtype=bool)
        in_scene[scene.start : scene.end + 1] = True
        mine = np.zeros(truth.frame_count, dtype=bool)
        for start, end in obj.intervals:
            mine[start : end + 1] = True
        assert not (mine & ~in_scene).any(), f"object {obj.id} leaks out of its scene"
        assert (in_scene & ~mine).any(), f"object {obj.id} never enters or leaves"


def test_intervals_agree_with_per_frame_fractions(video: tuple[Path, GroundTruth]) -> None:
    """Given the per-frame boxes, then a frame is in an interval iff its fraction >= 40 %."""
    _, truth = video
    for obj in truth.objects:
        from_boxes = np.zeros(truth.frame_count, dtype=bool)
        for frame, *_, frac in obj.boxes:
            from_boxes[int(frame)] = frac >= VISIBLE_FRACTION
        from_intervals = np.zeros(truth.frame_count, dtype=bool)
        for start, end in obj.intervals:
            from_intervals[start : end + 1] = True
        assert (from_boxes == from_intervals).all(), f"object {obj.id}: intervals vs boxes"


def test_visible_objects_have_their_colour_in_their_box(video: tuple[Path, GroundTruth]) -> None:
    """Given a frame where the truth says an object is visible, then its box is mostly its colour.

    Checked on the decoded (lossy) video, where no other object's box overlaps.
    """
    path, truth = video
    frames = _read_frames(path)
    names = list(COLORS)
    checked = 0
    boxes_by_frame: dict[int, list[tuple[int, list[float]]]] = {}
    for obj in truth.objects:
        for box in obj.boxes:
            boxes_by_frame.setdefault(int(box[0]), []).append((obj.id, box))
    for frame, entries in boxes_by_frame.items():
        for obj_id, (_, x0, y0, x1, y1, frac) in entries:
            others = [b for i, b in entries if i != obj_id]
            overlaps = any(not (x1 < b[1] or b[3] < x0 or y1 < b[2] or b[4] < y0) for b in others)
            if frac < VISIBLE_FRACTION or overlaps:
                continue
            patch = frames[frame][int(y0) : int(y1) + 1, int(x0) : int(x1) + 1]
            hsv = cv2.cvtColor(patch, cv2.COLOR_BGR2HSV).reshape(-1, 3)
            vivid = hsv[(hsv[:, 1] > 120) & (hsv[:, 2] > 120)]
            assert len(vivid) >= 0.3 * len(hsv), f"frame {frame}: object {obj_id} not drawn"
            votes = np.bincount(_nearest_color(vivid[:, 0] * 2.0), minlength=len(names))
            expected = truth.objects[obj_id].color
            assert names[int(votes.argmax())] == expected, f"frame {frame}: wrong colour"
            checked += 1
    assert checked > 100, "the check must cover a good share of the video"


def test_frames_with_nothing_on_screen_have_no_vivid_pixels(
    video: tuple[Path, GroundTruth],
) -> None:
    """Given frames where no object shows at all, then the background holds no object colour."""
    path, truth = video
    frames = _read_frames(path)
    shown = np.zeros(truth.frame_count, dtype=bool)
    for obj in truth.objects:
        for box in obj.boxes:
            shown[int(box[0])] = True
    empty = np.flatnonzero(~shown)
    for frame in empty:
        hsv = cv2.cvtColor(frames[frame], cv2.COLOR_BGR2HSV)
        vivid = ((hsv[..., 1] > 120) & (hsv[..., 2] > 120)).mean()
        assert vivid < 0.002, f"frame {frame}: background looks like an object ({vivid:.2%})"


def test_visible_queries(video: tuple[Path, GroundTruth]) -> None:
    """Given colour-only queries, then they are the union over shapes; typos raise."""
    _, truth = video
    for color in COLORS:
        union = np.zeros(truth.frame_count, dtype=bool)
        for shape in SHAPES:
            union |= truth.visible(color, shape)
        assert (truth.visible(color) == union).all(), f"visible({color!r}) is not the union"
    with pytest.raises(ValueError, match="colour"):
        truth.visible("magenta")
    with pytest.raises(ValueError, match="shape"):
        truth.visible("red", "hexagon")


def test_occlusion_counts_against_visibility() -> None:
    """Given an object fully covered by a later one, then its visible fraction is zero."""
    below = shapes.ObjectState("red", "circle", 50, 50, 10, 0, COLORS["red"])
    above = shapes.ObjectState("blue", "square", 50, 50, 20, 0, COLORS["blue"])
    fractions, masks = shapes.visible_fractions([below, above], (100, 100))
    assert fractions[0] == 0.0 and not masks[0].any(), "a hidden object must not count"
    assert fractions[1] == pytest.approx(1.0), "the top object is whole"


def test_half_out_of_frame_is_about_half_visible() -> None:
    """Given a circle centred on the frame's edge, then about half of it is visible."""
    circle = shapes.ObjectState("green", "circle", 0.0, 50.0, 20.0, 0.0, COLORS["green"])
    (fraction,), _ = shapes.visible_fractions([circle], (100, 100))
    assert fraction == pytest.approx(0.5, abs=0.05)


def test_sample_frame_is_deterministic_and_labels_follow_region() -> None:
    """Given a seeded sampler, then frames repeat; labels use the region's visible fraction."""
    size = (320, 240)
    region = shapes.center_square(size)
    a = world.sample_frame(np.random.default_rng(3), size, region=region)
    b = world.sample_frame(np.random.default_rng(3), size, region=region)
    assert np.array_equal(a.image, b.image) and a.fractions == b.fractions
    assert a.image.shape == (240, 320, 3) and a.image.dtype == np.uint8
    for seed in range(50):
        s = world.sample_frame(np.random.default_rng(seed), size, region=region)
        again, _ = shapes.visible_fractions(s.objects, size, region)
        assert again == s.fractions
        assert set(s.visible_labels()) <= {(o.color, o.shape) for o in s.objects}


def test_mask_to_intervals() -> None:
    """Given runs of True, then inclusive [start, end] pairs come back."""
    flags = np.array([0, 1, 1, 0, 0, 1, 0, 1], dtype=bool)
    assert truth.mask_to_intervals(flags) == [[1, 2], [5, 5], [7, 7]]
    assert truth.mask_to_intervals(np.zeros(3, dtype=bool)) == []


def test_command_line_writes_video_and_truth(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Given the CLI, when run, then it writes both files and lists the objects."""
    out = tmp_path / "cli.mp4"
    code = world.main([str(out), "--seed", "5", "--seconds", "6", "--size", "160x120"])
    assert code == 0
    truth = GroundTruth.from_json(out.with_suffix(".json"))
    assert (truth.width, truth.height, truth.frame_count) == (160, 120, 60)
    assert len(_read_frames(out)) == 60
    assert "frames" in capsys.readouterr().out
