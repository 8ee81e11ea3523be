"""redact(): no credential survives into logs, errors or run history."""

from __future__ import annotations

import pytest

from connector.http.redact import MASK, redact, redact_headers


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer 00D5j000000abcd!AQ4AQFakeTokenValue123", "AQ4AQFakeTokenValue123"),
        ("https://x.my.salesforce.com/?access_token=abc123def456", "abc123def456"),
        ('{"refresh_token": "5Aep861Fake", "ok": 1}', "5Aep861Fake"),
        ("grant_type=password&client_secret=s3cr3tvalue&username=a", "s3cr3tvalue"),
        ("<n1:password>hunter2token</n1:password>", "hunter2token"),
        ("session 00D5j000000abcdEAA!AR8AQJustASessionId.value", "AR8AQJustASessionId.value"),
        ("401 for agent@example.com/token:zd-api-token-123", "zd-api-token-123"),
    ],
)
def test_credentials_shaped_text_is_masked(text: str, secret: str) -> None:
    out = redact(text, secrets=["zd-api-token-123"])
    assert secret not in out
    assert MASK in out


def test_known_secret_values_are_masked_wherever_they_appear() -> None:
    assert redact("failed: my-password-value in body", ["my-password-value"]) == (
        f"failed: {MASK} in body"
    )


def test_ordinary_text_is_left_alone() -> None:
    text = "INVALID_FIELD: No such column 'Titel' on entity 'Contact'"
    assert redact(text) == text


def test_headers_keep_names_and_lose_credentials() -> None:
    out = redact_headers({"Authorization": "Bearer x", "Sforce-Limit-Info": "api-usage=1/5"})
    assert out == {"Authorization": MASK, "Sforce-Limit-Info": "api-usage=1/5"}
