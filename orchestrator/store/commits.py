"""A milestone commit as history shows it: its subject and its trailers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CommitInfo(BaseModel):
    """A milestone commit as found in history."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha: str
    subject: str
    milestone: str = Field(description="value of the Milestone: trailer")
    trailers: dict[str, str] = Field(description="trailer key -> value (last one wins)")


def parse_trailers(text: str) -> dict[str, str]:
    trailers: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key and " " not in key.strip():
            trailers[key.strip()] = value.strip()
    return trailers
