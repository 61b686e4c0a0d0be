"""Logs are JSON lines naming the request and the body, with no phone numbers or email addresses."""
import json
import logging

from chalicelib import logs


def test_log_lines_carry_request_and_body_and_hide_personal_data():
    record = logging.LogRecord("ecabinet.test", logging.INFO, __file__, 1,
                               "SMS to +84 901234567 and mail to bo-truong-01@example.gov.vn failed", None, None)
    token = logs.bind(request_id="req-1", body_id="chinh-phu")
    try:
        assert logs.ContextFilter().filter(record)
    finally:
        logs.unbind(token)
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["request_id"] == "req-1" and line["body_id"] == "chinh-phu"
    assert "901234567" not in line["message"] and "example.gov.vn" not in line["message"]
    assert "<phone>" in line["message"] and "<email>" in line["message"]
