"""Sessions that persist: a video's prompts come back, with visibility, the next time it opens.

Unit tests of ``player.session`` (file format, merging, bad files) and Pilot tests of two runs of
the app over the same cache.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clipvi_tui.app import ClipviApp
from clipvi_tui.config import Settings
from clipvi_tui.core.video import fingerprint, probe
from clipvi_tui.core.views import VIEWS
from clipvi_tui.player.session import (
    SavedPrompt,
    Session,
    SessionKeeper,
    load_session,
    save_session,
    session_path,
    starting_prompts,
)
from tests.app.appfakes import ColourClient, ready

SIZE = (120, 40)

texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30
).filter(lambda t: t.strip() == t and t)


@given(
    prompts=st.lists(
        st.builds(
            SavedPrompt,
            texts,
            st.booleans(),
            st.dictionaries(
                st.sampled_from(VIEWS), st.one_of(st.none(), st.floats(-5, 5, allow_nan=False))
            ),
        ),
        max_size=8,
        unique_by=lambda p: p.text,
    ),
    offered=st.lists(texts, max_size=5),
    selected=st.integers(0, 7),
)
def test_a_session_round_trips(
    tmp_path_factory: pytest.TempPathFactory,
    prompts: list[SavedPrompt],
    offered: list[str],
    selected: int,
) -> None:
    """Whatever prompts (any text, visibility, thresholds per view) are saved are read back
    unchanged."""
    path = tmp_path_factory.mktemp("s") / "sessions" / "fp.json"
    session = Session(prompts, offered, selected)
    save_session(path, session, "video.mp4")
    assert load_session(path) == session
    assert [p.name for p in path.parent.iterdir()] == ["fp.json"], "no temporary file left"


def test_starting_prompts_keep_deletions_and_add_new_offers() -> None:
    """An offered prompt the session never saw comes first (it was just asked for), then the
    saved list as saved; an offered prompt the user deleted (it was offered before) stays
    deleted."""
    saved = Session(
        [SavedPrompt("a", visible=False), SavedPrompt("typed")], offered=["a", "b"], selected=1
    )
    assert starting_prompts(saved, ["a", "b", "c"]) == [
        SavedPrompt("c"),
        SavedPrompt("a", visible=False),
        SavedPrompt("typed"),
    ]
    assert starting_prompts(None, ["a", "b"]) == [SavedPrompt("a"), SavedPrompt("b")]


@pytest.mark.parametrize(
    "content",
    ["{not json", '{"version": 99, "prompts": []}', '{"version": 1}', "[]", '{"version": 1, '],
)
def test_an_unreadable_session_is_ignored(tmp_path: Path, content: str) -> None:
    """A damaged or foreign file means "no session" (and is left alone), never a crash."""
    path = tmp_path / "s.json"
    path.write_text(content)
    assert load_session(path) is None
    assert path.read_text() == content


def _app(settings: Settings, video: Path) -> ClipviApp:
    client = ColourClient()
    return ClipviApp(
        settings, video, graphics="unicode", client_factory=lambda u: client, start_server=False
    )


async def test_prompts_and_visibility_come_back_next_time(
    settings: Settings, video_path: Path
) -> None:
    """Given a run where the user deleted "green", hid "red" and typed "blue", the next run on the
    same video opens with exactly that (and says so), although the settings still offer red and
    green; the session is a file per video fingerprint in the cache folder, not config.yaml."""
    async with _app(settings, video_path).run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("down", "d", "1")
        player.add_prompt("blue")
        await pilot.pause(0.1)
    path = session_path(settings.cache_dir, fingerprint(video_path, probe(video_path)))
    assert path.is_file()
    assert not Path("config.yaml").exists()

    second = _app(settings, video_path)
    async with second.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        board = player.board.prompts
        assert [(e.text, e.visible) for e in board] == [("red", False), ("blue", True)]
        assert player.selected == 1, "the cursor where it was"
        assert any("Restored" in str(n.message) for n in second._notifications)
        chart = player.query_one("#chart")
        assert [s.label for s in chart._series] == ["blue"], "hidden stays hidden"


async def test_fresh_ignores_the_session_and_a_new_prompt_is_added(
    settings: Settings, video_path: Path
) -> None:
    """With restore_session off (--fresh) the offered prompts are used; with it on, a prompt
    offered for the first time joins the restored ones, first, with the cursor on it."""
    async with _app(settings, video_path).run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("d")  # delete "red"
    settings.restore_session = False
    async with _app(settings, video_path).run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        assert [e.text for e in player.board.prompts] == ["red", "green"]
        await pilot.press("down", "d")  # this run deletes "green" instead: saved over the old
    settings.restore_session = True
    settings.prompts = ["red", "green", "a yellow one"]
    async with _app(settings, video_path).run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        assert [e.text for e in player.board.prompts] == ["a yellow one", "red"]
        assert player.selected == 0


async def test_a_renamed_copy_finds_the_session(
    settings: Settings, video_path: Path, tmp_path: Path
) -> None:
    """Sessions follow the content (the cache's fingerprint), not the file name."""
    async with _app(settings, video_path).run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("2")
    copy = shutil.copy(video_path, tmp_path / "renamed.avi")
    async with _app(settings, Path(copy)).run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        assert [e.visible for e in player.board.prompts] == [True, False]


def test_a_session_that_cannot_be_written_is_reported(tmp_path: Path, video_path: Path) -> None:
    """If the sessions folder cannot be created, saving returns False with the reason."""
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    keeper = SessionKeeper(blocker, video_path, probe(video_path), ["a"], restore=True)
    assert keeper.prompts == [SavedPrompt("a")]
    assert not keeper.save([SavedPrompt("a")], 0)
    assert keeper.error is not None and "could not save" in keeper.error


def test_the_file_is_readable_json(tmp_path: Path) -> None:
    """The stored document names the video for humans and keeps every field."""
    path = tmp_path / "x.json"
    prompt = SavedPrompt("a dog", False, {"raw": 0.25, "zscore": None})
    save_session(path, Session([prompt], ["a dog"], 0), "clip.mp4")
    doc = json.loads(path.read_text())
    assert doc["video"] == "clip.mp4" and doc["version"] == 1
    assert doc["prompts"] == [
        {"text": "a dog", "visible": False, "thresholds": {"raw": 0.25, "zscore": None}}
    ]
    doc["prompts"][0]["thresholds"] = {"raw": "nan", "future-view": 1.0, "softmax": 0.9}
    path.write_text(json.dumps(doc))
    loaded = load_session(path)
    assert loaded is not None
    assert loaded.prompts[0].thresholds == {"raw": None, "softmax": 0.9}, "unknown views dropped"


async def test_thresholds_come_back_and_the_command_line_wins(
    settings: Settings, video_path: Path
) -> None:
    """A threshold set with t is restored next time, in its view; a threshold given in the
    settings (--threshold / config.yaml) for that prompt wins over the saved one. "More like this
    frame" pseudo-prompts are not saved (they have no text to embed)."""
    async with _app(settings, video_path).run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("t", "ctrl+a", "ctrl+k", *"0.5", "enter")
        assert player.moments.threshold_of("red") == 0.5
        await pilot.press("m")
        await pilot.pause(0.1)
        assert any(e.text.startswith("like ") for e in player.board.prompts)
    async with _app(settings, video_path).run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        assert player.moments.threshold_of("red") == 0.5
        assert [e.text for e in player.board.prompts] == ["red", "green"]
    settings.thresholds = {"red": 0.7}
    async with _app(settings, video_path).run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        assert player.moments.threshold_of("red") == 0.7
