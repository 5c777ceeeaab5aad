from __future__ import annotations

import pytest

from orchestrator.redact import MASK, Redactor, redact, secret_values


@pytest.mark.parametrize(
    ("secret_text", "must_vanish"),
    [
        ("Authorization: Bearer eyAbCdEf0123456789", "eyAbCdEf0123456789"),
        ("authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
        ("sk-proj-abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnop"),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnop"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijkl", "11ABCDEFG0123456789"),
        ("glpat-abcdefghijklmnopqrst", "abcdefghijklmnop"),
        ("xoxb-1234567890-abcdefghij", "1234567890"),
        ("AKIAIOSFODNN7EXAMPLE", "IOSFODNN7EXAMPLE"),
        ("AIzaSyA-abcdefghijklmnopqrstuvwxyz01234", "abcdefghijklmnop"),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
            "dozjgNryP4J3jVmNHl0w5N",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowSECRET\n-----END RSA PRIVATE KEY-----",
            "MIIEowSECRET",
        ),
        ('api_key = "q1w2e3r4t5y6u7i8"', "q1w2e3r4t5y6u7i8"),
        ("DB_PASSWORD=correcthorsebattery", "correcthorsebattery"),
        ('{"client_secret": "abcdefgh12345678"}', "abcdefgh12345678"),
    ],
)
def test_credential_shapes_are_masked(secret_text: str, must_vanish: str) -> None:
    out = redact(f"before {secret_text} after", env={})
    assert MASK in out
    assert out.startswith("before ")
    assert out.endswith(" after")
    assert must_vanish not in out


@pytest.mark.parametrize(
    "harmless",
    [
        "max_tokens=500000 tokens_total=1234",
        "Test Author <author@example.invalid>",
        "pytest -q tests/test_tokenizer.py",
        "commit abcdef1234567890abcdef1234567890abcdef12",
        "the key point is simple",
    ],
)
def test_ordinary_text_is_left_alone(harmless: str) -> None:
    env = {"GIT_AUTHOR_NAME": "Test Author", "SSH_AUTH_SOCK": "/tmp/ssh-agent.sock"}
    assert redact(harmless, env=env) == harmless


def test_secret_env_values_are_masked_longest_first() -> None:
    env = {
        "OPENAI_API_KEY": "abc123abc123abc123",
        "SHORT_TOKEN": "abc123abc123",
        "MY_PASSWORD": "tiny",
        "PATH": "/usr/bin:/bin",
        "GIT_AUTHOR_NAME": "Test Author",
    }
    assert secret_values(env) == ["abc123abc123abc123", "abc123abc123"]
    out = redact("x abc123abc123abc123 y abc123abc123 z tiny", env=env)
    assert out == f"x {MASK} y {MASK} z tiny"


def test_redactor_walks_nested_data() -> None:
    redactor = Redactor(["supersecretvalue"])
    data = {"a": ["supersecretvalue", ("x-supersecretvalue",)], "b": 3, "c": None}
    assert redactor.data(data) == {"a": [MASK, (f"x-{MASK}",)], "b": 3, "c": None}


def test_redactor_ignores_too_short_values() -> None:
    assert Redactor(["short"])("short text") == "short text"


def test_values_with_regex_characters_are_literal() -> None:
    secret = "a.b*c+d?(e)[f]"
    assert Redactor([secret])(f"<{secret}> aXb") == f"<{MASK}> aXb"


def test_the_environment_is_read_again_on_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCH_TEST_TOKEN", "first-value-1234")
    assert redact("a first-value-1234 b") == f"a {MASK} b"
    monkeypatch.setenv("ORCH_TEST_TOKEN", "second-value-5678")
    monkeypatch.setenv("ORCH_OTHER_SECRET", "third-value-9012")
    out = Redactor.from_env()("first-value-1234 second-value-5678 third-value-9012")
    assert out == f"first-value-1234 {MASK} {MASK}"


def _every_pattern(text: str) -> str:
    """The reference: every credential pattern run over the text, none skipped."""
    from orchestrator.redact import _GATED, _keep_prefix

    for pattern, _ in _GATED:
        text = pattern.sub(_keep_prefix, text)
    return text


_FRAGMENTS = [
    "tokens=1234 ",
    "max_tokens: 500000 ",
    "Bearer ",
    "bearer abcdefgh1234 ",
    "Authorization: token ",
    "sk-",
    "ghp_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "AKIA",
    "ASIA",
    "AIza",
    "eyJ",
    ".",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "api_key=",
    "client_secret: '",
    "PASSWORD=",
    "passwd:",
    "access_token=",
    "abcdefgh12345678",
    "[REDACTED]",
    '"',
    "\n",
]


def test_each_pattern_skipped_only_when_it_cannot_match() -> None:
    """Skipping a pattern whose trigger words are absent changes nothing: the output
    equals running every pattern, over the cases above and over random mixes."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    cases = [f"x {text} y" for text in _FRAGMENTS] + [
        "usage: input_tokens=1200 output_tokens=80 cached_input_tokens=0",
        "Authorization: Bearer eyAbCdEf0123456789 and tokens=12",
        "refresh_token: abcdefgh12345678 (tokens used: 12)",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowSECRET\n-----END RSA PRIVATE KEY-----",
    ]
    redactor = Redactor([])
    for text in cases:
        assert redactor(text) == _every_pattern(text)

    pieces = st.one_of(
        st.sampled_from(_FRAGMENTS),
        st.text(
            alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-=:. ",
            max_size=40,
        ),
    )

    @settings(max_examples=300, deadline=None)
    @given(st.lists(pieces, max_size=12).map("".join))
    def same_as_every_pattern(text: str) -> None:
        assert redactor(text) == _every_pattern(text)

    same_as_every_pattern()
