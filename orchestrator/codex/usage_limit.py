"""codex's usage-limit failure, and when the limit resets.

A ChatGPT-plan usage limit (an HTTP 429 ``usage_limit_reached``) is not retried
by codex: one request, exit 1, and ``turn.failed`` says (codex 0.169.0)

- "You’ve hit your usage limit. … or try again at 11:46 PM." (later the same day),
- "… or try again at Dec 3rd, 2026 7:17 AM." (another day),
- "You’ve hit your usage limit. Try again later." (no reset time in the body);

"The usage limit has been reached" is also seen. The time is local wall-clock
time cut to the minute, so the limit resets within the minute after it. A 429
with a long ``Retry-After`` shows as "Reconnecting... (… 429 Too Many Requests)"
and then silence while codex sleeps: a step that ends stalled or timed out right
after such a line is treated as a usage limit with no known reset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_LIMIT = re.compile(r"usage limit|usage_limit_reached", re.IGNORECASE)
_RESET = re.compile(
    r"try again at (?:(?P<date>[A-Z][a-z]{2,8} \d{1,2}(?:st|nd|rd|th)?, \d{4}) )?"
    r"(?P<time>\d{1,2}:\d{2}\s?[AP]M)",
    re.IGNORECASE,
)
_ORDINAL = re.compile(r"(\d)(st|nd|rd|th)")
_RETRY_429 = re.compile(r"Reconnecting\.\.\..*\b429\b")


@dataclass(frozen=True)
class UsageLimit:
    """A usage limit codex hit; ``resets_at`` (unix time, minute start) when it said."""

    message: str
    resets_at: float | None


def _reset_time(match: re.Match[str], now: float) -> float | None:
    clock = match.group("time").upper().replace(" ", "")
    try:
        hour_minute = datetime.strptime(clock, "%I:%M%p")
        if match.group("date"):
            day = datetime.strptime(_ORDINAL.sub(r"\1", match.group("date")), "%b %d, %Y")
        else:
            day = datetime.fromtimestamp(now)
    except ValueError:
        return None
    when = day.replace(hour=hour_minute.hour, minute=hour_minute.minute, second=0, microsecond=0)
    if not match.group("date") and when.timestamp() < now - 12 * 3600:
        when += timedelta(days=1)  # "11:05 PM" said just before midnight, read just after
    return when.timestamp()


def usage_limit(text: str, now: float) -> UsageLimit | None:
    """The usage limit ``text`` (codex's failure message and error lines) reports, or None."""
    if not _LIMIT.search(text):
        return None
    line = next((ln for ln in text.splitlines() if _LIMIT.search(ln)), text)
    found = _RESET.search(text)
    return UsageLimit(line.strip(), _reset_time(found, now) if found else None)


def retry_after_stall(errors: list[str]) -> UsageLimit | None:
    """A step that went silent right after codex began honouring a 429's Retry-After."""
    if errors and _RETRY_429.search(errors[-1]):
        return UsageLimit(
            f"rate limited: HTTP 429 with a long Retry-After ({errors[-1].strip()})", None
        )
    return None
