"""SVG snapshots of the terminal app."""
