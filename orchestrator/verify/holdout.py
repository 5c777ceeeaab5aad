"""Hidden acceptance checks: a TOML file kept outside the repository.

```toml
[[check]]
command = "python -m pytest -q /srv/holdout/test_secret_inputs.py"
milestone = "2"        # optional: only this milestone; omitted: every milestone
```

They run after the visible checks, over the same copy and sandbox. Their
commands and output never reach the agent (nor the run directory, which the
agent can read): a failure is reported as "a hidden acceptance check failed
for milestone N", and the full output goes to a directory beside the file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.errors import ConfigError


class HoldoutCheck(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    command: str = Field(min_length=1, description="one shell command line")
    milestone: str | None = Field(None, description="only this milestone; None: every one")


class HoldoutFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    check: list[HoldoutCheck] = Field(default_factory=list)


def load_holdout(path_text: str, repo_root: Path) -> list[HoldoutCheck]:
    """The hidden checks of ``path_text``; ConfigError (exit 2) naming the problem."""
    path = Path(path_text).expanduser().resolve()
    root = repo_root.resolve()
    if path == root or root in path.parents:
        raise ConfigError(
            f"the hidden acceptance checks {path} are inside the repository {root}, where the "
            "agent can read them; move the file outside it and pass the new path with "
            "--holdout-checks (or verify.holdout_checks)"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"the hidden acceptance checks {path} cannot be read ({exc.strerror}); pass an "
            "existing file with --holdout-checks"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix the file") from None
    try:
        return HoldoutFile.model_validate(data).check
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]
        )
        raise ConfigError(
            f"{path}: {problems}; each [[check]] has `command` and optionally `milestone`"
        ) from None


def holdout_log_dir(path_text: str, run_id: str) -> Path:
    """Where hidden checks' output goes: beside the file, out of the agent's sight."""
    path = Path(path_text).expanduser().resolve()
    return path.parent / f"{path.stem}.logs" / run_id
