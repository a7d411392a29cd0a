"""Headless core: video, embeddings, cache, similarity and the indexer.

Nothing in this package may import textual or rich; ``tests/unit/test_layers.py`` enforces it.
"""
