"""The synthetic shapes world: videos of coloured shapes with frame-exact ground truth.

There are no CLIP weights on an offline machine, so the project brings its own world with
meaning (``world``: scenes, motion, ground truth, the command line) and its drawing primitives
(``shapes``). Headless: numpy and OpenCV only; nothing in the app imports it.

``python -m clipvi_tui.synthetic OUT.mp4 --seed N`` writes a video and its ground truth.
"""
