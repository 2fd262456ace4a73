"""The officers' daily digests: once per day and officer, what waited for them, sent as one
message like any other."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from pymongo.errors import PyMongoError

from services.notify import metrics, recipients
from services.notify.dispatch import Clock, Dispatcher, delivery_record
from services.notify.notifier import NotifyConfig
from services.notify.recipients import Notice, Recipient
from services.notify.rendering import DigestLine, Renderer, TicketFacts
from services.notify.repository import DeliveryRepository, DigestRepository, StaffDirectory
from shared.events import utcnow
from shared.supervise import raise_if_stopping

log = logging.getLogger(__name__)

DIGEST_EVENT_TYPE = "digest"


class DigestBuilder:
    """Once per day and officer: one digest of what waited, sent like any other message."""

    def __init__(
        self,
        *,
        digests: DigestRepository,
        deliveries: DeliveryRepository,
        staff: StaffDirectory,
        renderer: Renderer,
        dispatcher: Dispatcher,
        config: NotifyConfig,
        poll_s: float = 60.0,
        clock: Clock = utcnow,
    ) -> None:
        self._digests = digests
        self._deliveries = deliveries
        self._staff = staff
        self._renderer = renderer
        self._dispatcher = dispatcher
        self._config = config
        self._poll_s = poll_s
        self._clock = clock

    async def build_due(self) -> int:
        """Build and send the digests whose hour has come; returns how many were built."""
        now = self._clock()
        day = recipients.latest_due_digest_day(
            now, hour=self._config.digest_hour, tz=self._config.tz
        )
        built = 0
        for username in await self._digests.waiting_usernames(day.isoformat()):
            built += await self._build(username, day.isoformat(), now)
        return built

    async def _build(self, username: str, day: str, now: datetime) -> int:
        waiting = await self._digests.waiting(username, day)
        if not waiting:
            return 0
        digest_id = recipients.digest_event_id(username, datetime.fromisoformat(day).date())
        frozen = await self._digests.freeze(
            {
                "_id": digest_id,
                "username": username,
                "day": day,
                "item_ids": [item["_id"] for item in waiting],
                "created_at": now,
            }
        )
        item_ids = list(frozen["item_ids"])
        items = await self._digests.items(item_ids)
        contact = await self._staff.member(username)
        lang = contact.lang if contact else self._config.default_lang
        targets = recipients.channels_for(contact, self._config.enabled) if contact else []
        if not targets:
            opd = await self._staff.opd_of(username)
            targets = [
                Recipient(
                    key=f"user:{username}",
                    kind="officer",
                    channel=recipients.Channel.LOG,
                    address=f"opd:{opd or '-'}",
                    lang=lang,
                )
            ]
        notice = Notice(
            event_id=digest_id, event_type=DIGEST_EVENT_TYPE, tracking_code="", occurred_at=now
        )
        lines = [DigestLine(i["tracking_code"], i["line"], i["url"]) for i in items]
        lease = self._dispatcher.lease(now)
        held = []
        for recipient in targets:
            rendered = self._renderer.render(
                recipients.DIGEST_TEMPLATE,
                lang=recipient.lang,
                channel=recipient.channel,
                context=self._renderer.context(
                    notice, lang=recipient.lang, facts=TicketFacts(), opd_names={}, items=lines
                ),
            )
            record = delivery_record(
                key=recipients.delivery_key(digest_id, recipient),
                notice=notice,
                recipient=recipient,
                template=recipients.DIGEST_TEMPLATE,
                content={"subject": rendered.subject, "text": rendered.text, "html": rendered.html},
                now=now,
                lease=lease,
            )
            record["tracking_codes"] = sorted({line.tracking_code for line in lines})
            stored, created = await self._deliveries.claim(record)
            if created:
                held.append(stored)
        for record in held:
            await self._dispatcher.first_attempt(record)
        await self._digests.mark_included(item_ids, digest_id)
        if held:
            metrics.DIGESTS.inc()
        return 1 if held else 0

    async def run(self) -> None:
        while True:
            raise_if_stopping()  # a call may have swallowed the request to stop
            try:
                if await self.build_due():
                    self._dispatcher.wake()
            except PyMongoError as exc:
                raise_if_stopping()
                log.warning("digest builder: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(self._poll_s)
