"""LOG_FORMAT: plain lines by default, one JSON object per line with ``json``; every line of a request
carries its request id (the caller's X-Request-Id when it looks like one)."""

import json
import logging

import pytest

from config.ops.log_context import ContextFilter
from tests.config.test_health_and_settings import run_manage

LOG_ONE_LINE = "import logging; logging.getLogger('webhooks.views').warning('timely delivery rejected: %s', 'bad')"


def test_json_format_writes_one_object_per_line_with_the_named_fields():
    result = run_manage("shell", "-c", LOG_ONE_LINE, DJANGO_SETTINGS_MODULE="config.settings.local", LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["level"] == "WARNING" and line["logger"] == "webhooks.views"
    assert line["message"] == "timely delivery rejected: bad"
    assert line["timestamp"].startswith("20") and line["timestamp"].endswith("+00:00")
    assert set(line) <= {"timestamp", "level", "logger", "message", "request_id", "event_id", "provider"}


def test_plain_is_the_default():
    result = run_manage("shell", "-c", LOG_ONE_LINE, DJANGO_SETTINGS_MODULE="config.settings.local", LOG_FORMAT="")
    last = result.stderr.strip().splitlines()[-1]
    assert last.endswith("WARNING webhooks.views timely delivery rejected: bad") and not last.startswith("{")


def test_an_unknown_format_is_refused_at_start():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.local", LOG_FORMAT="xml")
    assert result.returncode != 0 and "LOG_FORMAT must be plain or json" in result.stderr


@pytest.fixture
def records(caplog):
    caplog.handler.addFilter(ContextFilter())
    caplog.set_level(logging.INFO)
    return caplog


@pytest.mark.django_db
class TestRequestId:
    def test_the_callers_request_id_is_kept_on_the_response_and_on_every_line(self, client, records):
        response = client.post("/webhooks/timely/", b"{}", content_type="application/json",
                               headers={"X-Request-Id": "edge-7f3a.42"})  # fmt: skip
        assert response.status_code == 401 and response["X-Request-Id"] == "edge-7f3a.42"
        mine = [r for r in records.records if r.name == "webhooks.views"]
        assert mine and all((r.request_id, r.provider) == ("edge-7f3a.42", "timely") for r in mine)

    @pytest.mark.parametrize("supplied", [None, "", "ana.costa@exemplo.com.br", "x" * 129, "id with spaces"])
    def test_a_missing_or_odd_request_id_is_replaced_by_a_fresh_one(self, client, supplied):
        headers = {} if supplied is None else {"X-Request-Id": supplied}
        first = client.get("/healthz", headers=headers)["X-Request-Id"]
        second = client.get("/healthz", headers=headers)["X-Request-Id"]
        assert len(first) == 32 and int(first, 16) >= 0 and first != second

    def test_lines_outside_a_request_carry_no_stale_request_id(self, client, records):
        client.get("/healthz", headers={"X-Request-Id": "req-1"})
        logging.getLogger("webhooks.views").warning("after the request")
        assert records.records[-1].request_id is None
