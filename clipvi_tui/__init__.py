"""clipvi-tui: a terminal CLIP video investigator.

Only the version lives here so that ``import clipvi_tui`` stays cheap.
"""

__version__ = "0.1.0"
