"""Secret redaction for everything we write: logs, transcripts, reports, state, commits.

Two kinds of secrets are masked: the values of environment variables whose
names look secret (``OPENAI_API_KEY``, ``GITHUB_TOKEN``, ``DB_PASSWORD``...),
and text shaped like a credential whatever its origin (bearer headers, ``sk-``
keys, GitHub/Slack/AWS/Google tokens, JWTs, private key blocks,
``password=...`` assignments). Build a :class:`Redactor` once and call it on
every string; :func:`redact` is the one-shot form.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from typing import Any

MASK = "[REDACTED]"
MIN_SECRET_LEN = 8

_SECRET_NAME = re.compile(
    r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|AUTH(?!OR)|COOKIE|SESSION|PRIVATE)",
    re.IGNORECASE,
)
_NOT_SECRET_NAMES = frozenset({"SSH_AUTH_SOCK", "KEYTIMEOUT", "GPG_KEY_ID"})

# Patterns whose first group (if any) is kept and the rest masked, each with the
# substrings (lower case) one of which any text it matches holds. A plain substring test
# on the lower-cased text runs at memory speed and spares a regex pass over text that
# cannot match: most text (transcripts, log lines) holds no trigger at all, and a line
# that says ``tokens`` needs only the last pattern. Masking cannot make a trigger appear
# (the mask holds none and no trigger spans its brackets), so testing the text before
# any masking answers for every pattern.
_GATED: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}"), ("bearer",)),
    (
        re.compile(r"(?i)(\bauthorization\s*[:=]\s*(?:basic|token)\s+)[A-Za-z0-9._~+/=-]{8,}"),
        ("authorization",),
    ),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), ("sk-",)),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"), ("github_pat_",)),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), ("glpat-",)),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), ("xox",)),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), ("akia", "asia")),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), ("aiza",)),
    (
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
        ("eyj",),
    ),
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
        ("private key",),
    ),
    (
        re.compile(
            r"(?i)(\b[\w-]*(?:api[_-]?key|secret|token|password|passwd)[\"']?\s*[:=]\s*[\"']?)"
            r"[^\s\"',;]{8,}"
        ),
        ("api_key", "api-key", "apikey", "secret", "token", "passw"),
    ),
)

# Every pattern above needs one of these substrings: one pass over them spares the
# per-pattern tests on the common text that holds none.
_TRIGGERS = tuple(t for _, triggers in _GATED for t in triggers)


def _might_hold_secret(low: str) -> bool:
    return any(t in low for t in _TRIGGERS)


@functools.lru_cache(maxsize=4096)
def _is_secret_name(name: str) -> bool:
    """Cached: a pure function of the name, asked for every variable of every child's
    environment (the names are the same few dozen all run long)."""
    return name.upper() not in _NOT_SECRET_NAMES and bool(_SECRET_NAME.search(name))


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Values of environment variables whose names look like secrets (8+ chars), longest first."""
    source = os.environ if env is None else env
    values = {v for k, v in source.items() if len(v) >= MIN_SECRET_LEN and _is_secret_name(k)}
    return sorted(values, key=len, reverse=True)


def _keep_prefix(match: re.Match[str]) -> str:
    prefix = match.group(1) if match.re.groups else None
    return (prefix or "") + MASK


class Redactor:
    """Masks a fixed set of secret values plus credential-shaped text. Cheap to call."""

    def __init__(self, values: list[str] | None = None) -> None:
        self.values = sorted(
            {v for v in values or [] if len(v) >= MIN_SECRET_LEN}, key=len, reverse=True
        )
        self._values_re = (
            re.compile("|".join(re.escape(v) for v in self.values)) if self.values else None
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Redactor:
        """A redactor for the secret-looking variables of ``env`` (default: os.environ)."""
        return cls(secret_values(env))

    def __call__(self, text: str) -> str:
        if self._values_re is not None:
            text = self._values_re.sub(MASK, text)
        low = text.lower()
        if not _might_hold_secret(low):
            return text
        for pattern, triggers in _GATED:
            for trigger in triggers:  # a plain loop: a generator per pattern costs more
                if trigger in low:
                    text = pattern.sub(_keep_prefix, text)
                    break
        return text

    def data(self, value: Any) -> Any:
        """``value`` with every string inside dicts, lists and tuples redacted."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.data(v) for v in value)
        return value


def redact(text: str, env: Mapping[str, str] | None = None) -> str:
    """``text`` with secret environment values and common key shapes masked."""
    return Redactor.from_env(env)(text)
