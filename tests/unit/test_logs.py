"""The log handler scrubs registered secrets and credential-shaped text from every record."""

from __future__ import annotations

import io
import json
import logging

from connector import logs


def test_a_registered_secret_is_masked_in_any_libraries_record():
    stream = io.StringIO()
    logs.setup("debug", "text", stream)
    logs.add_secrets(lambda: ["s3cr3t-token-value"])
    logging.getLogger("urllib3.connectionpool").debug("GET /x?token=s3cr3t-token-value 200")
    assert "s3cr3t-token-value" not in stream.getvalue()
    assert "***" in stream.getvalue()


def test_json_lines_carry_level_logger_and_the_redacted_message():
    stream = io.StringIO()
    logs.setup("info", "json", stream)
    logging.getLogger("connector.push").info("Authorization: Bearer abcdefghijklmnopqrstuvwxyz")
    line = json.loads(stream.getvalue().strip())
    assert (line["level"], line["logger"]) == ("info", "connector.push")
    assert "abcdefghijklmnopqrstuvwxyz" not in line["message"]
