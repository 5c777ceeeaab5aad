from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestrator.commands.init import TEMPLATES_DIR
from orchestrator.settings.loader import effective_values, load_settings, resolve_settings
from orchestrator.settings.model import Settings

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.toml"))


def test_the_expected_examples_exist() -> None:
    names = {p.name for p in CONFIGS}
    assert {"default.toml", "tmux.toml", "nightly-cron.toml", "ci.toml"} <= names


@pytest.mark.parametrize("path", [*CONFIGS, TEMPLATES_DIR / "orchestrator.toml"], ids=str)
def test_every_example_config_loads(path: Path, tmp_path: Path) -> None:
    loaded = resolve_settings(repo=tmp_path, config_file=path, env={})
    assert any(str(path) in source for source in loaded.origins.values())


def test_default_toml_holds_the_defaults(tmp_path: Path) -> None:
    path = ROOT / "configs" / "default.toml"
    assert load_settings(repo=tmp_path, config_file=path, env={}) == Settings()


def test_default_toml_mentions_every_key() -> None:
    text = (ROOT / "configs" / "default.toml").read_text(encoding="utf-8")
    mentioned: set[str] = set()
    section = ""
    for line in text.splitlines():
        if m := re.match(r"^\[(\w+)\]$", line):
            section = m.group(1)
        elif m := re.match(r"^#? ?(\w+) = ", line):
            mentioned.add(f"{section}.{m.group(1)}")
    keys = set(effective_values(resolve_settings(repo=ROOT / "configs", env={})))
    assert keys == mentioned


def test_nightly_cron_is_quiet_and_budgeted(tmp_path: Path) -> None:
    s = load_settings(repo=tmp_path, config_file=ROOT / "configs" / "nightly-cron.toml", env={})
    assert s.log.quiet
    assert s.run.deadline == "06:30"
    assert s.run.max_wall == 7 * 3600
