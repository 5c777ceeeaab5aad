"""Durations as people write them: ``90``, ``90s``, ``15m``, ``6h``, ``1h30m``, ``1.5h``."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?[dhms])+$")


def parse_duration(value: object) -> object:
    """Seconds for a duration string; numbers pass through; anything else is left to pydantic.

    Raises ``ValueError`` with the accepted forms for a malformed string.
    """
    if isinstance(value, bool) or not isinstance(value, str):
        return value
    text = value.strip().lower().replace(" ", "")
    if not text:
        raise ValueError("empty duration; expected seconds or e.g. 90s, 15m, 6h, 1h30m")
    try:
        return float(text)
    except ValueError:
        pass
    if not _WHOLE.match(text):
        raise ValueError(
            f"invalid duration {value!r}; expected seconds or e.g. 90s, 15m, 6h, 1h30m"
        )
    return sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))


def format_duration(seconds: float) -> str:
    """A compact human form: ``2h``, ``1h30m``, ``45s``, ``1m05s``."""
    total = round(seconds)
    if total < 60:
        return f"{total}s"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    out = f"{hours}h" if hours else ""
    if minutes or (hours and secs):
        out += f"{minutes:02d}m" if hours else f"{minutes}m"
    if secs:
        out += f"{secs:02d}s"
    return out
