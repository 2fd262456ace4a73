"""Sign-in attempts are personal data (username and address): they are purged once past the
throttle's window (routing's hourly housekeeping, which needs only the database)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from services.routing.repository import LoginThrottle
from shared.events import utcnow
from shared.mongo import Document

pytestmark = pytest.mark.integration


async def test_attempts_past_the_window_are_purged(db: AsyncDatabase[Document]) -> None:
    throttle = LoginThrottle(db, max_failures=5, window=timedelta(minutes=15))
    now = utcnow()
    await throttle.attempt("dlh", "10.0.0.1", now - timedelta(hours=2))
    await throttle.attempt("dlh", "10.0.0.2", now - timedelta(minutes=1))
    await throttle.purge_before(now - throttle.window)
    left = [doc["address"] async for doc in db.login_attempts.find({})]
    assert left == ["10.0.0.2"]
