"""The ``api_url`` setting read as a list of Inference servers, each with its own limits.

One URL, comma-separated URLs (as ``CLIPVI_API_URL`` carries them) or a config.yaml list of URLs
and ``{url, batch_size, max_in_flight}`` mappings all become :class:`ServerSpec` records, which
the :class:`~clipvi_tui.core.servers.ServerPool` is built from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clipvi_tui.core.embeddings import SERVER_MAX_BATCH

# Requests kept in flight per server unless configured: enough to overlap upload, inference and
# download on one CPU server (bench/index.py); a GPU server with NUM_WORKERS wants more.
DEFAULT_MAX_IN_FLIGHT = 3


@dataclass(frozen=True)
class ServerSpec:
    """One server of the list and how hard to push it.

    Attributes:
        url: base URL of the Inference server.
        batch_size: images per request (keep at or below the server's CLIP_MAX_BATCH_SIZE).
        max_in_flight: requests kept in flight at once on this server.
    """

    url: str
    batch_size: int = SERVER_MAX_BATCH
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT


def server_specs(
    value: str | Sequence[str | Mapping[str, Any]],
    *,
    batch_size: int | None = None,
    max_in_flight: int | None = None,
) -> list[ServerSpec]:
    """Turn an ``api_url`` setting into server specs.

    Args:
        value: one URL, comma-separated URLs (as ``CLIPVI_API_URL`` carries them), or a list of
            URLs and ``{url, batch_size, max_in_flight}`` mappings (config.yaml).
        batch_size: images per request for servers that do not set their own.
        max_in_flight: requests in flight for servers that do not set their own.

    Returns:
        One spec per distinct URL, in the given order.

    Raises:
        ValueError: naming the bad entry (not http(s), empty, unknown key, non-positive number).
    """
    items: list[Any] = []
    for item in [value] if isinstance(value, str) else value:
        items.extend(item.split(",") if isinstance(item, str) else [item])
    default_batch = positive_int(
        "batch_size", SERVER_MAX_BATCH if batch_size is None else batch_size
    )
    default_flight = positive_int(
        "max_in_flight", DEFAULT_MAX_IN_FLIGHT if max_in_flight is None else max_in_flight
    )
    specs: dict[str, ServerSpec] = {}
    for item in items:
        entry: Mapping[str, Any] = item if isinstance(item, Mapping) else {"url": item}
        unknown = sorted(set(map(str, entry)) - {"url", "batch_size", "max_in_flight"})
        if unknown:
            raise ValueError(
                f"api_url entry {dict(entry)!r}: unknown key(s) {', '.join(unknown)}; "
                "known: url, batch_size, max_in_flight"
            )
        url = str(entry.get("url") or "").strip().rstrip("/")
        if not url and not isinstance(item, Mapping):
            continue  # "a,,b" or a trailing comma
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"api_url must start with http:// or https://, not {url!r}")
        batch = positive_int("batch_size", entry.get("batch_size", default_batch))
        flight = positive_int("max_in_flight", entry.get("max_in_flight", default_flight))
        specs.setdefault(url, ServerSpec(url=url, batch_size=batch, max_in_flight=flight))
    if not specs:
        raise ValueError("api_url must name at least one server")
    return list(specs.values())


def positive_int(name: str, value: Any) -> int:
    """``value`` as a whole number ≥ 1.

    Raises:
        ValueError: naming the setting ``name``.
    """
    try:
        number = int(value)
        if number != float(value):
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None
    if number < 1:
        raise ValueError(f"{name} must be at least 1, not {number}")
    return number
