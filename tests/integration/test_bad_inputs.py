"""Every input a user (or a broken server) can get wrong: one line, a documented exit code, and
the cache exactly as it was.

Each row runs the real command (``python -m clipvi_tui …``) in its own folder with its own copy
of a cache that already holds a fully indexed video (real embeddings from the session's real
Inference server). The test asserts the exit code, that stderr holds exactly one ``clipvi-tui:``
line (plus any warnings the row expects, and no library noise or traceback) matching the row's
message, and that the cache's contents are byte-for-byte unchanged. Broken servers are
deliberately misbehaving HTTP servers (``tests/support/badserver.py``), some of them forwarding
to the real server and breaking only one kind of answer.

The rows run concurrently (they are independent processes), so the ~90 of them take a few
seconds of wall time; the exit codes are those documented in ``clipvi_tui/cli/errors.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from clipvi_tui.server.serve import free_port
from tests.conftest import InferenceServer
from tests.support.badserver import BadServer, Reply, ReplyFn, answer_with, hang_after
from tests.support.faults import cli_options
from tests.support.legacy_cache import overwrite_head, snapshot
from tests.support.videos import write_coded_video

pytestmark = pytest.mark.integration

TEXT, IMAGE = "/clip/embed_text", "/clip/embed_image"
PROGRESS_LINE = re.compile(r"^\S+ \[[#.]+\] \d+/\d+ frames")


@dataclass
class Env:
    """What a row may refer to: its folder, cache, videos, servers."""

    root: Path
    cache: Path
    video: Path  # fully indexed in the cache (tiny-test, 5 fps, prompt "red")
    other: Path  # not in the cache: the server is needed
    server: InferenceServer
    videos: Path  # broken and odd video files (see broken_videos)
    bad_url: str = ""

    def real(self) -> list[str]:
        """Options pointing at the real server with the tiny model and this row's cache."""
        return [*self.server.cli_args(), "--cache-dir", str(self.cache)]

    def bad(self) -> list[str]:
        """Options pointing at this row's broken server (same model name, same cache)."""
        return [
            "--api-url",
            self.bad_url,
            "--clip-version",
            "tiny-test",
            "--server",
            "external",
            "--cache-dir",
            str(self.cache),
        ]

    def config(self, text: str | bytes) -> str:
        """Write ``config.yaml`` in the row's folder; returns its path."""
        path = self.root / "cfg.yaml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return str(path)


@dataclass
class Case:
    """One bad input: the command, the exit code and the message it must give."""

    id: str
    args: Callable[[Env], list[str]]
    code: int
    message: str  # a regex the one error line must match
    reply: ReplyFn | None = None  # a broken server for this row
    info: Reply | None = None  # its /info answer (None: like the real server)
    prepare: Callable[[Env], None] | None = None
    warnings: int = 0  # "clipvi-tui: warning:" lines expected before the message
    extra_lines: int = 0  # other expected clipvi-tui lines (e.g. "starting one on …")
    cache_bytes: bool = False  # compare the cache's files (a damaged file cannot be read)
    cache_grows: bool = False  # a good run: what was cached must still be there, unchanged
    timeout: float = 120


def cfg(text: str | bytes, *, server: bool = True) -> Callable[[Env], list[str]]:
    """``index VIDEO --config <text>`` (the model comes from the file; the command line points
    at the real server unless the row is about the file's own server keys)."""

    def args(e: Env) -> list[str]:
        where = ["--api-url", e.server.url, "--server", "external"] if server else []
        return [
            "index",
            str(e.video),
            "--config",
            e.config(text),
            *where,
            "--cache-dir",
            str(e.cache),
        ]

    return args


def idx(*more: str) -> Callable[[Env], list[str]]:
    """``index VIDEO`` (cached) against the real server, with extra options."""
    return lambda e: ["index", str(e.video), *e.real(), *more]


def bad(*more: str) -> Callable[[Env], list[str]]:
    """``index OTHER -p red`` (frames not cached) against the row's broken server."""
    return lambda e: ["index", str(e.other), *e.bad(), "-p", "red", *more]


def status(code: int, message: str, only: str | None = None) -> ReplyFn:
    """Answer HTTP ``code`` with a JSON message (only for path ``only``, else forward)."""

    def reply(req: object, up: Reply | None) -> Reply:
        if only is not None and getattr(req, "path", "") != only:
            assert up is not None
            return up
        return Reply.json({"message": message}, code)

    return reply


def on_images(broken: ReplyFn) -> ReplyFn:
    """Forward text requests to the real server; break image answers with ``broken``."""

    def reply(req: object, up: Reply | None) -> Reply:
        if getattr(req, "path", "") == IMAGE:
            return broken(req, up)  # type: ignore[arg-type]
        assert up is not None
        return up

    return reply


def raw(body: bytes, code: int = 200, ctype: str = "application/json") -> ReplyFn:
    return lambda _req, _up: Reply(code, body, ctype)


def other_model(req: object, up: Reply | None) -> Reply:
    """The real server's answers, turned into another model's (same size, other vectors)."""
    assert up is not None
    if up.status != 200:
        return up
    doc = json.loads(up.body)
    doc["embeddings"] = [row[::-1] for row in doc["embeddings"]]
    return Reply.json(doc)


def broken_videos(folder: Path) -> Path:
    """Video files a user may point the tool at that cannot be read, and an odd-sized one."""
    folder.mkdir()
    good = write_coded_video(folder / "good.mp4", frames=20, fps=10.0)
    data = good.read_bytes()
    (folder / "zero.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("my shopping list, not a video", encoding="utf-8")
    (folder / "random.mp4").write_bytes(np.random.default_rng(0).bytes(50_000))
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 3])  # mp4v puts moov at the end
    (folder / "header-only.mp4").write_bytes(data[:200])
    write_audio_only(folder / "audio.m4a")
    write_coded_video(folder / "odd.mp4", frames=20, fps=10.0, size=(321, 241))
    return folder


def write_audio_only(path: Path) -> None:
    """An AAC file: a real media file with no video stream."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=16000)
        for _ in range(20):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.rate = 16000
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def video(name: str) -> Callable[[Env], list[str]]:
    """``index <broken video>`` against the real server."""
    return lambda e: ["index", str(e.videos / name), *e.real(), "-p", "red"]


def deep_yaml(levels: int) -> str:
    return "CLIP: " + "[" * levels + "]" * levels + "\n"


CASES: list[Case] = [
    # -- config files -----------------------------------------------------------------------
    Case("config sample_fps list", cfg("sample_fps: [1]\n"), 2, r"sample_fps .* not a list"),
    Case("config sample_fps true", cfg("sample_fps: true\n"), 2, r"sample_fps .* not true"),
    Case("config sample_fps 0", cfg("sample_fps: 0\n"), 2, r"sample_fps .*'all' for every"),
    Case("config sample_fps -0.0", cfg("sample_fps: -0.0\n"), 2, r"sample_fps .* not -0\.0"),
    Case("config sample_fps negative", cfg("sample_fps: -2\n"), 2, r"sample_fps .* not -2"),
    Case("config sample_fps nan", cfg("sample_fps: .nan\n"), 2, r"sample_fps .* not nan"),
    Case("config sample_fps inf", cfg("sample_fps: .inf\n"), 2, r"sample_fps .* not inf"),
    Case("config sample_fps word", cfg("sample_fps: fast\n"), 2, r"sample_fps .* 'fast'"),
    Case("config clip_version list", cfg("clip_version: [x]\n"), 2, r"clip_version .* a list"),
    Case("config clip_version empty", cfg("clip_version: ''\n"), 2, r"clip_version must not"),
    Case("config clip_version number", cfg("clip_version: 16\n"), 2, r"clip_version .* not 16"),
    Case(
        "config api key mapping",
        cfg("roboflow_api_key: {a: 1}\n"),
        2,
        r"roboflow_api_key must be text .* not a mapping",
    ),
    Case("config api key list", cfg("roboflow_api_key: [k]\n"), 2, r"roboflow_api_key .* list"),
    Case("config api key bool", cfg("roboflow_api_key: yes\n"), 2, r"roboflow_api_key .* true"),
    Case(
        "config api_url ftp",
        cfg("api_url: ftp://x\n", server=False),
        2,
        r"api_url must start with http",
    ),
    Case(
        "config api_url mapping",
        cfg("api_url: {host: x}\n", server=False),
        2,
        r"api_url must be a URL or a list of URLs, not a mapping",
    ),
    Case("config prompts number", cfg("CLIP: 5\n"), 2, r"CLIP \(the prompts\) .* not 5"),
    Case("config prompt not text", cfg("CLIP: [red, 5]\n"), 2, r"CLIP .* 5 is not text"),
    Case("config prompts mapping", cfg("CLIP: {a: b}\n"), 2, r"CLIP .* not a mapping"),
    Case("config graphics", cfg("graphics: vga\n"), 2, r"graphics must be one of .* 'vga'"),
    Case("config graphics bool", cfg("graphics: true\n"), 2, r"graphics must be one of .*true"),
    Case(
        "config server",
        cfg("server: maybe\n", server=False),
        2,
        r"server must be one of auto, external",
    ),
    Case("config cache_dir list", cfg("cache_dir: [a]\n"), 2, r"cache_dir must be a path"),
    Case("config model_dir mapping", cfg("model_dir: {x: 1}\n"), 2, r"model_dir must be a path"),
    Case(
        "config video_path list",
        lambda e: ["index", "--config", e.config("video_path: [a.mp4]\n"), "--server", "external"],
        2,
        r"video_path must be a path, not a list",
    ),
    Case("config timeout 0", cfg("timeout: 0\n"), 2, r"timeout must be seconds between"),
    Case("config timeout negative", cfg("timeout: -5\n"), 2, r"timeout must be seconds"),
    Case("config timeout word", cfg("timeout: soon\n"), 2, r"timeout must be seconds .*'soon'"),
    Case("config timeout huge", cfg("timeout: 99999\n"), 2, r"between 0 and 3600"),
    Case("config timeout bool", cfg("timeout: true\n"), 2, r"timeout must be a number"),
    Case(
        "config not UTF-8",
        cfg(b"CLIP:\n  - caf\xe9 au lait\n"),
        2,
        r"is not UTF-8 text \(byte 0xe9 at offset 13\): save it as UTF-8",
    ),
    Case("config UTF-16", cfg("CLIP: [red]\n".encode("utf-16")), 2, r"is not UTF-8 text"),
    Case("config not YAML", cfg("CLIP: [unclosed\n"), 2, r"is not valid YAML \(line \d+\)"),
    Case("config a list", cfg("- just\n- a list\n"), 2, r"must be a mapping of keys"),
    Case("config a word", cfg("hello\n"), 2, r"must be a mapping of keys"),
    Case("config nested too deeply", cfg(deep_yaml(5000)), 2, r"config .*(deeply|YAML)"),
    Case(
        "config is a folder",
        lambda e: ["index", str(e.video), "--config", str(e.root), "--server", "external"],
        2,
        r"config .* is a folder, not a file",
    ),
    Case("config missing", idx("--config", "nope.yaml"), 2, r"config file not found: nope\.yaml"),
    Case(
        "config unknown key is a warning",
        cfg("clip_version: tiny-test\nsampel_fps: 5\n"),
        0,
        r"\d+/30 frames cached",
        warnings=1,
    ),
    # -- command-line values ----------------------------------------------------------------
    Case("port too big", lambda e: ["serve", "--port", "70000"], 2, r"port must be 1-65535"),
    Case("port negative", lambda e: ["serve", "--port", "-1"], 2, r"port must be 1-65535"),
    Case("port word", lambda e: ["serve", "--port", "abc"], 2, r"port must be a number"),
    Case("sample-fps 0", idx("--sample-fps", "0"), 2, r"sample_fps .* 'all' for every frame"),
    Case("sample-fps -0", idx("--sample-fps", "-0"), 2, r"sample_fps .* not '-0'"),
    Case("sample-fps nan", idx("--sample-fps", "nan"), 2, r"sample_fps .* 'nan'"),
    Case("sample-fps inf", idx("--sample-fps", "inf"), 2, r"sample_fps .* 'inf'"),
    Case("sample-fps empty", idx("--sample-fps", ""), 2, r"sample_fps .* ''"),
    Case("api-url without scheme", idx("--api-url", "localhost:9001"), 2, r"api_url must start"),
    Case("timeout 0", idx("--timeout", "0"), 2, r"timeout must be seconds between"),
    Case("timeout word", idx("--timeout", "abc"), 2, r"timeout must be seconds .*'abc'"),
    Case("clip-version empty", idx("--clip-version", " "), 2, r"clip_version must not be empty"),
    Case(
        "a URL as the video",
        lambda e: ["index", "http://127.0.0.1:1/clip.mp4", *e.real()],
        2,
        r"must be a local file, not a URL \(http://127\.0\.0\.1:1/clip\.mp4\): download it",
    ),
    Case(
        "a URL as the app's video",
        lambda e: ["https://example.com/v.mp4", "--cache-dir", str(e.cache)],
        2,
        r"not a URL \(https://example\.com/v\.mp4\)",
    ),
    Case(
        "a URL as video_path in the config",
        lambda e: ["index", "--config", e.config("video_path: http://h/a.mp4\n"), *e.real()],
        2,
        r"video_path must be a local path, not a URL \(http://h/a\.mp4\)",
    ),
    Case(
        "a URL to search in",
        lambda e: ["search", "red", "rtsp://cam/1", *e.real()],
        2,
        r"not a URL \(rtsp://cam/1\)",
    ),
    Case(
        "missing video",
        lambda e: ["index", str(e.root / "nope.mp4"), *e.real()],
        2,
        r"video not found: .*nope\.mp4",
    ),
    Case(
        "a folder as the video",
        lambda e: ["export", str(e.root), *e.real(), "-p", "red"],
        2,
        r"must be a video file, not a folder",
    ),
    Case(
        "cache dir is a file",
        lambda e: ["index", str(e.video), *e.server.cli_args(), "--cache-dir", str(e.video)],
        4,
        r"cannot open cache at .*coded\.mp4: it is a file, not a folder",
    ),
    Case(
        "cache dir cannot be created",
        lambda e: ["index", str(e.video), *e.server.cli_args(), "--cache-dir", "/proc/clipvi"],
        4,
        r"cannot open cache at /proc/clipvi",
    ),
    Case(
        "output folder missing",
        lambda e: ["export", str(e.video), *e.real(), "-p", "red", "-o", "/nonexistent/x.csv"],
        2,
        r"cannot write /nonexistent/x\.csv: No such file or directory",
    ),
    Case(
        "export without prompts",
        lambda e: ["export", str(e.video), *e.real()],
        2,
        r"export needs at least one prompt",
    ),
    Case("graphics choice", lambda e: ["x.mp4", "--graphics", "vga"], 2, r"invalid choice"),
    Case("unknown option", lambda e: ["--frobnicate"], 2, r"unrecognized arguments"),
    Case(
        "extra model without =",
        lambda e: ["serve", "--extra-model", "nodir"],
        2,
        r"--extra-model wants VERSION=DIR",
    ),
    Case(
        "serve model dir missing",
        lambda e: ["serve", "--model-dir", "/nonexistent"],
        2,
        r"model dir not found",
    ),
    Case(
        "prompt over 77 tokens",
        idx("-p", "red " + "a very red circle on a blue square " * 12),
        2,
        r"prompt 'red a very.*' was rejected by the server as too long; .* 77 tokens",
    ),
    # -- server answers ---------------------------------------------------------------------
    Case(
        "another dimension under the same name",
        bad(),
        3,
        r"gives 7-dim vectors for clip/tiny-test, but the cache holds 512-dim .* another "
        r"--cache-dir",
        reply=answer_with(7),
    ),
    Case("wrong count", bad(), 3, r"answered 0 vectors for 1 inputs", reply=answer_with(8, -1)),
    Case("zero-length vectors", bad(), 3, r"empty \(zero-length\) vectors", answer_with(0)),
    Case(
        "NaN vectors",
        bad(),
        3,
        r"NaN or infinite values for clip/tiny-test",
        reply=lambda r, _u: Reply.embeddings([[float("nan")] * 512] * r.count()),
    ),
    Case("malformed JSON", bad(), 3, r"text that is not JSON", raw(b'{"embeddings": [[0.1')),
    Case(
        "HTML page with 200",
        bad(),
        3,
        r"HTTP 200 with an HTML page instead of JSON\): is api_url",
        reply=raw(b"<html><body>It works!</body></html>", ctype="text/html"),
    ),
    Case(
        "HTML 502 from a proxy",
        bad(),
        3,
        r"failed \(HTTP 502: an HTML page instead of JSON\)",
        reply=raw(b"<html>Bad Gateway</html>", 502, "text/html"),
    ),
    Case("401", bad(), 2, r"rejected the API key \(HTTP 401", status(401, "Unauthorized")),
    Case("403", bad(), 2, r"rejected the API key \(HTTP 403", status(403, "Forbidden")),
    Case(
        "404 on text",
        bad(),
        3,
        r"/clip/embed_text answered HTTP 404: Not Found: is api_url the Inference server",
        reply=status(404, "Not Found"),
    ),
    Case("413", bad(), 3, r"too large \(HTTP 413", status(413, "Payload Too Large")),
    Case("429", bad(), 3, r"rate-limiting requests \(HTTP 429", status(429, "slow down")),
    Case("500", bad(), 3, r"failed \(HTTP 500: it broke\)", status(500, "it broke")),
    Case("503", bad(), 3, r"unavailable \(HTTP 503: busy\)", status(503, "busy")),
    Case(
        "embed requests hang, /info answers",
        bad("--timeout", "1"),
        3,
        r"did not answer within 1 s \(timed out; raise `timeout:`",
        reply=hang_after(0),
    ),
    Case(
        "nothing answers at all",
        bad(),
        3,
        r"did not answer within 2 s \(timed out: something accepts connections",
        reply=hang_after(0),
        info=Reply(hang=True),
    ),
    Case(
        "nothing listens",
        lambda e: ["index", str(e.other), *cli_options(e.bad_url, e.cache)],
        3,
        r"cannot reach the Inference server at .* \(connection refused\).*clipvi-tui serve",
        prepare=lambda e: setattr(e, "bad_url", f"http://127.0.0.1:{free_port()}"),
    ),
    Case(
        "a clip_version the server does not have",
        lambda e: ["index", str(e.other), *e.real(), "--clip-version", "nope"],
        3,
        r"Inference server at http://127\.0\.0\.1:\d+ cannot load model clip/nope .*"
        r"check clip_version",
    ),
    Case(
        "another model under the same name",
        bad(),
        3,
        r"serves a different model as clip/tiny-test than the one the cache holds",
        reply=other_model,
    ),
    Case(
        "another dimension on images only",
        bad(),
        3,
        r"answered 7-dim vectors for clip/tiny-test after 512-dim ones; nothing was cached"
        r" — stopped at 0/30 frames \(none cached\)",
        reply=on_images(answer_with(7)),
    ),
    Case(
        "malformed JSON on images only",
        bad(),
        3,
        r"text that is not JSON|no embeddings",
        reply=on_images(raw(b"[[[")),
    ),
    Case(
        "zero-length vectors on images only",
        bad(),
        3,
        r"empty \(zero-length\) vectors .* stopped at 0/30 frames",
        reply=on_images(answer_with(0)),
    ),
    Case(
        "500 on images only",
        bad(),
        3,
        r"failed \(HTTP 500: .*\) — stopped at 0/30",
        reply=on_images(status(500, "boom")),
    ),
    # -- video files (the reader and its messages: tests/unit/test_video*.py) ----------------
    # Only the promise is checked here: exit 2, one line naming the file, no library noise.
    Case("zero-byte video", video("zero.mp4"), 2, r"zero\.mp4"),
    Case("a text file as the video", video("notes.mp4"), 2, r"notes\.mp4"),
    Case("random bytes as the video", video("random.mp4"), 2, r"random\.mp4"),
    Case("truncated video", video("truncated.mp4"), 2, r"truncated\.mp4"),
    Case("only the first 200 bytes", video("header-only.mp4"), 2, r"header-only\.mp4"),
    Case("no video stream (audio only)", video("audio.m4a"), 2, r"audio\.m4a"),
    Case(
        "odd frame size 321x241",
        video("odd.mp4"),
        0,
        r"odd\.mp4: 10/10 frames cached",
        cache_grows=True,
    ),
    # -- the cache ---------------------------------------------------------------------------
    Case(
        "damaged cache file",
        idx(),
        4,
        r"the cache file .*data\.mdb is damaged \(MDB_INVALID.*\); move it away or delete",
        prepare=lambda e: overwrite_head(e.cache / "data.mdb"),
        cache_bytes=True,
    ),
    Case(
        "cut-off cache file",
        idx(),
        4,
        r"data\.mdb is damaged \(it is cut off: \d+ bytes",
        prepare=lambda e: (e.cache / "data.mdb").write_bytes(
            (e.cache / "data.mdb").read_bytes()[:9000]
        ),
        cache_bytes=True,
    ),
]


@dataclass
class Outcome:
    """What one row's command did."""

    code: int
    stderr: str
    stdout: str
    cache_same: bool
    requests: list[str] = field(default_factory=list)


def run_case(case: Case, env: Env, reference: object) -> Outcome:
    """Run one row in its folder with its cache copy and (maybe) its broken server."""
    if case.prepare is not None:
        case.prepare(env)
    before_bytes = {p.name: p.read_bytes() for p in env.cache.iterdir()}
    server = BadServer(case.reply, upstream=env.server.url, info=case.info) if case.reply else None
    if server is not None:
        server.__enter__()
        env.bad_url = server.url
    try:
        out = subprocess.run(
            [sys.executable, "-m", "clipvi_tui", *case.args(env)],
            capture_output=True,
            text=True,
            cwd=env.root,
            timeout=case.timeout,
        )
    finally:
        if server is not None:
            server.__exit__(None, None, None)
    if case.cache_bytes:
        same = before_bytes["data.mdb"] == (env.cache / "data.mdb").read_bytes()
    elif case.cache_grows:
        after = snapshot(env.cache)
        same = all(after.get(k) == v for k, v in reference.items())
    else:
        same = snapshot(env.cache) == reference
    paths = [r.path for r in server.requests] if server else []
    return Outcome(out.returncode, out.stderr, out.stdout, same, paths)


@pytest.fixture(scope="module")
def outcomes(
    inference_server: InferenceServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Outcome]]:
    """Index a video once with the real server, then run every row against a copy of that."""
    root = tmp_path_factory.mktemp("bad-inputs")
    video = write_coded_video(root / "coded.mp4", frames=60, fps=10.0)
    videos = broken_videos(root / "videos")
    other = write_coded_video(root / "other.mp4", frames=60, fps=10.0, size=(176, 144))
    cache = root / "cache"
    seeded = subprocess.run(
        [
            sys.executable,
            "-m",
            "clipvi_tui",
            "index",
            str(video),
            *inference_server.cli_args(),
            "--cache-dir",
            str(cache),
            "-p",
            "red",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seeded.returncode == 0, seeded.stderr
    reference = snapshot(cache)

    def env_for(case: Case, i: int) -> Env:
        folder = root / f"row{i:03d}"
        folder.mkdir()
        shutil.copytree(cache, folder / "cache")
        return Env(folder, folder / "cache", video, other, inference_server, videos)

    envs = [env_for(c, i) for i, c in enumerate(CASES)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda ce: run_case(ce[0], ce[1], reference), zip(CASES, envs, strict=True))
        )
    found = {c.id: r for c, r in zip(CASES, results, strict=True)}
    report = os.environ.get("CLIPVI_BAD_INPUTS_REPORT")
    if report:  # the table of inputs and what happens now, for release notes
        Path(report).write_text(markdown_table(found, root), encoding="utf-8")
    yield found


def markdown_table(found: dict[str, Outcome], root: Path) -> str:
    """``| input | exit | message |`` for every row (temporary paths shortened)."""
    lines = ["| input | exit | what the user sees (stderr) |", "| --- | --- | --- |"]
    for case_id, out in found.items():
        shown = [ln for ln in out.stderr.splitlines() if not PROGRESS_LINE.match(ln)]
        text = " / ".join(shown).replace(str(root), "…").replace("|", "\\|")
        lines.append(f"| {case_id} | {out.code} | {text} |")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, outcomes: dict[str, Outcome]) -> None:
    out = outcomes[case.id]
    lines = [ln for ln in out.stderr.splitlines() if not PROGRESS_LINE.match(ln)]
    assert out.code == case.code, f"exit {out.code}, stderr:\n{out.stderr}"
    assert "Traceback" not in out.stderr and "unexpected error" not in out.stderr, out.stderr
    warnings = [ln for ln in lines if ln.startswith("clipvi-tui: warning:")]
    assert len(warnings) == case.warnings, out.stderr
    rest = [ln for ln in lines if ln not in warnings]
    assert len(rest) == 1 + case.extra_lines, f"expected one line, got:\n{out.stderr}"
    assert re.search(case.message, rest[-1]), f"{rest[-1]!r} !~ {case.message!r}"
    if case.code != 0:
        assert rest[-1].startswith("clipvi-tui: "), rest[-1]
    assert out.cache_same, "the cache changed"


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 40
