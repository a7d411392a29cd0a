"""The footer: Textual's, keeping the most important keys when they do not all fit.

Textual's footer shows every key marked ``show`` and cuts the line at the terminal's edge, so at
80 columns the last keys (help, quit, the palette) disappear. This one hides keys, least
important first (the order is the screen's, see ``keymap.FOOTER_ORDER``), until the rest fit;
ctrl+p (the palette) always stays, and every key stays in ``?`` and the palette.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import events
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel


class FittedFooter(Footer):
    """A footer that drops its least important keys to fit its width."""

    def __init__(self, order: Sequence[str], *, id: str | None = None) -> None:
        """Keep the keys whose actions come first in ``order`` (unlisted ones go first)."""
        super().__init__(id=id)
        self.order = list(order)

    async def recompose(self) -> None:
        """Rebuild the keys (the bindings changed), then fit them."""
        await super().recompose()
        self.fit()

    def on_resize(self, event: events.Resize) -> None:
        """Refit when the terminal's width changes."""
        self.fit()

    def _rank(self, key: FooterKey) -> int:
        try:
            return self.order.index(key.action)
        except ValueError:
            return len(self.order)

    @staticmethod
    def _cost(widget: FooterKey | FooterLabel, compact: bool) -> int:
        """Cells a key takes (key, description, padding and margin as the footer styles them)."""
        if isinstance(widget, FooterLabel):
            return len(str(widget.render())) + 1
        text = len(widget.key_display) + (len(widget.description) + 1 if widget.description else 0)
        return text + (1 if compact else 2) + (1 if widget.has_class("-grouped") else 0)

    def fit(self) -> None:
        """Hide the least important keys until the others fit the width."""
        width = self.size.width or self.app.size.width
        keys = [k for k in self.query(FooterKey) if not k.has_class("-command-palette")]
        compact = self.compact or any(k.has_class("-compact") for k in keys)
        for key in keys:
            key.display = True
        palette = sum(self._cost(k, compact) + 1 for k in self.query(FooterKey) if k not in keys)
        labels = sum(self._cost(label, compact) for label in self.query(FooterLabel))
        total = palette + labels + sum(self._cost(k, compact) for k in keys)
        # Grouped keys (← →) share a label: they go together, never one alone.
        for key in sorted(keys, key=self._rank, reverse=True):
            if total <= width:
                break
            if key.has_class("-grouped"):
                continue
            key.display = False
            total -= self._cost(key, compact)
