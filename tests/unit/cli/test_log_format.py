"""``--log-format json``: one parseable object per line, with the exception when there is one."""

from __future__ import annotations

import json
import logging
import sys

from slokeeper.cli.log_format import JSONFormatter


def test_each_line_is_one_json_object_with_level_logger_and_message() -> None:
    record = logging.LogRecord(
        "slokeeper", logging.WARNING, __file__, 1, "SLO %s failed", ("x",), None
    )
    line = json.loads(JSONFormatter().format(record))
    assert line["level"] == "warning"
    assert line["logger"] == "slokeeper"
    assert line["message"] == "SLO x failed"
    assert line["time"].endswith("+00:00")


def test_an_exception_travels_inside_the_same_line() -> None:
    try:
        raise RuntimeError("Prometheus down")
    except RuntimeError:
        record = logging.LogRecord(
            "slokeeper", logging.ERROR, __file__, 1, "cycle failed", (), sys.exc_info()
        )
    text = JSONFormatter().format(record)
    assert "\n" not in text
    assert "RuntimeError: Prometheus down" in json.loads(text)["exception"]
