"""Each service runs uvicorn with the guarded protocol and its own slow-client bounds (the
behaviour itself: tests/e2e/test_slow_clients.py, against the real process)."""

from __future__ import annotations

import pytest

from services.intake.settings import IntakeSettings
from services.notify.settings import NotifySettings
from services.routing.settings import RoutingSettings
from shared.http import server_options
from shared.settings import ServiceSettings
from shared.slow_clients import GuardedHttpToolsProtocol, HttpServerSettings


@pytest.mark.parametrize(
    ("cls", "prefix"),
    [(IntakeSettings, "INTAKE"), (RoutingSettings, "ROUTING"), (NotifySettings, "NOTIFY")],
)
def test_every_service_serves_with_its_own_bounds(
    cls: type[ServiceSettings], prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"{prefix}_HTTP__HEADER_TIMEOUT_SECONDS", "7")
    monkeypatch.setenv(f"{prefix}_HTTP__KEEP_ALIVE_SECONDS", "3")
    options = server_options(cls())
    protocol = options["http"]
    assert issubclass(protocol, GuardedHttpToolsProtocol)
    assert protocol.limits.header_timeout_seconds == 7
    assert options["timeout_keep_alive"] == 3
    assert options["loop"] == "uvloop"


def test_the_defaults_bound_every_phase() -> None:
    limits = HttpServerSettings()
    assert limits.header_timeout_seconds == 10
    assert limits.body_timeout_seconds == 30
    assert limits.body_min_rate_bytes == 32 * 1024
    assert limits.write_timeout_seconds == 30
    assert limits.keep_alive_seconds == 5
    assert limits.max_header_bytes == 32 * 1024
