"""Quick checks of whether anything is at an Inference server's URL, without the SDK.

Both ask ``/info`` with ``urllib`` and a short timeout: :func:`server_answers` says whether
something speaks HTTP there (to wait for a server starting up), :func:`nothing_listens` whether
the port refuses connections (the server is gone, so retrying it is pointless).
"""

from __future__ import annotations

from clipvi_tui.core.failures import probe_server


def nothing_listens(api_url: str) -> bool:
    """True when the server's port refuses connections (the server is gone, not just slow)."""
    return probe_server(api_url, timeout=1.0) == "connection refused"


def server_answers(api_url: str, timeout: float = 1.0) -> bool:
    """True when something at ``api_url`` speaks HTTP (any status counts)."""
    return probe_server(api_url, timeout) is None
