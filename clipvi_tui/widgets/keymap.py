"""The player's keys: one table of bindings, read by the screen, the footer, help and palette.

Every key is a :class:`~textual.binding.Binding` with an id, a short description (the footer's)
and, where that is terse, a tooltip with the longer wording (help and the ctrl+p palette show
it). :data:`FOOTER_ORDER` says which keys the footer keeps when they do not all fit.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

# The footer shows ← and → (and + and -) as one entry each.
STEP_KEYS = Binding.Group("Step", compact=True)
ZOOM_KEYS = Binding.Group("Zoom", compact=True)


def _toggle_bindings() -> list[Binding]:
    return [
        Binding(
            str(n),
            f"toggle_prompt({n - 1})",
            f"Show/hide prompt {n}",
            show=False,
            id=f"player.toggle_{n}",
        )
        for n in range(1, 10)
    ]


PLAYER_BINDINGS: list[BindingType] = [
    Binding("space", "toggle_play", "Play/Pause", id="player.play"),
    Binding(
        "left",
        "step(-1)",
        "Prev",
        key_display="←",
        tooltip="Previous sampled frame",
        group=STEP_KEYS,
        id="player.prev_sample",
    ),
    Binding(
        "right",
        "step(1)",
        "Next",
        key_display="→",
        tooltip="Next sampled frame",
        group=STEP_KEYS,
        id="player.next_sample",
    ),
    Binding("shift+left", "jump(-5)", "Back 5 s", show=False, id="player.back_5s"),
    Binding("shift+right", "jump(5)", "Forward 5 s", show=False, id="player.forward_5s"),
    Binding("home", "seek_start", "Go to start", show=False, id="player.start"),
    Binding("end", "seek_end", "Go to end", show=False, id="player.end"),
    Binding("comma", "step_raw(-1)", "Prev raw frame", show=False, id="player.prev_frame"),
    Binding("full_stop", "step_raw(1)", "Next raw frame", show=False, id="player.next_frame"),
    Binding(
        "a,slash",
        "add_prompt",
        "Add",
        key_display="a",
        tooltip="Add a prompt",
        id="player.add_prompt",
    ),
    Binding(
        "d", "delete_prompt", "Delete", tooltip="Delete the selected prompt", id="player.delete"
    ),
    Binding(
        "u",
        "undo_delete",
        "Undo delete",
        show=False,
        tooltip="Undo the last prompt deletion",
        id="player.undo_delete",
    ),
    Binding("up,k", "select(-1)", "Select prompt above", show=False, id="player.select_up"),
    Binding("down,j", "select(1)", "Select prompt below", show=False, id="player.select_down"),
    *_toggle_bindings(),
    # -- the chart --
    Binding(
        "plus,equals_sign",
        "zoom(1)",
        "In",
        key_display="+",
        tooltip="Zoom the time axis in around the playhead",
        group=ZOOM_KEYS,
        id="player.zoom_in",
    ),
    Binding(
        "minus",
        "zoom(-1)",
        "Out",
        key_display="-",
        tooltip="Zoom the time axis out",
        group=ZOOM_KEYS,
        id="player.zoom_out",
    ),
    Binding("0", "zoom(0)", "Whole video", show=False, id="player.zoom_reset"),
    Binding(
        "y",
        "focus_values(1)",
        "Fit y",
        show=False,
        tooltip="Fit the y axis to the curves in view",
        id="player.fit_y",
    ),
    Binding(
        "Y",
        "focus_values(0)",
        "Reset y",
        show=False,
        tooltip="Y axis over all the data again",
        id="player.reset_y",
    ),
    Binding(
        "h",
        "toggle_heatmap",
        "Heatmap",
        show=False,
        tooltip="Show / hide the heatmap strip",
        id="player.heatmap",
    ),
    # -- finding moments --
    Binding("v", "cycle_view", "Score view", id="player.view"),
    Binding(
        "left_square_bracket",
        "smooth(-1)",
        "Less smoothing",
        key_display="[",
        show=False,
        id="player.smooth_less",
    ),
    Binding(
        "right_square_bracket",
        "smooth(1)",
        "More smoothing",
        key_display="]",
        show=False,
        id="player.smooth_more",
    ),
    Binding("t", "set_threshold", "Threshold", id="player.threshold"),
    Binding("n", "go_to('segment', 1)", "Next segment", id="player.next_segment"),
    Binding("N", "go_to('segment', -1)", "Previous segment", show=False, id="player.prev_segment"),
    Binding("l", "focus_segments", "Segment list", show=False, id="player.segments"),
    Binding("s", "toggle_spikes", "Spikes view", show=False, id="player.spikes"),
    Binding("x", "go_to('spike', 1)", "Next spike", show=False, id="player.next_spike"),
    Binding("X", "go_to('spike', -1)", "Previous spike", show=False, id="player.prev_spike"),
    Binding("f", "search", "Search", id="player.search"),
    Binding("m", "more_like_this", "More like this frame", show=False, id="player.like"),
]

# The footer's keys by importance: when they do not all fit, the last ones give way first
# (every key stays in ? and ctrl+p). Shown keys not listed here give way before all of these.
FOOTER_ORDER = (
    "toggle_play",
    "step(-1)",
    "step(1)",
    "quit",
    "help",
    "add_prompt",
    "zoom(1)",
    "zoom(-1)",
    "cycle_view",
    "delete_prompt",
    "set_threshold",
    "go_to('segment', 1)",
    "search",
)
