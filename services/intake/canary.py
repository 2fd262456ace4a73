"""The canary: a synthetic complaint filed through intake's own use case at a set interval
(`INTAKE_CANARY_INTERVAL_S`, off by default), so the whole pipeline is measured even when no
citizen writes. It is marked synthetic: routing measures it
(`pengaduan_canary_seconds`) and closes it at once, notify sends nothing for it, and the
statistics and public lists leave it out (docs/operations.md, "Canary")."""

from __future__ import annotations

import asyncio
import logging

from pymongo.errors import PyMongoError

from services.intake import metrics
from services.intake.schemas import ComplaintIn
from services.intake.service import IntakeContext, submit_complaint
from shared import correlation
from shared.supervise import raise_if_stopping

log = logging.getLogger(__name__)

SOURCE = "canary"
# Text the router places without doubt (rules and lexicon), so the measure is the pipeline's.
TEXT = (
    "Uji otomatis sistem (canary): sampah menumpuk di pinggir jalan dekat pasar dan belum "
    "diangkut petugas kebersihan."
)


def canary_complaint() -> ComplaintIn:
    return ComplaintIn.model_validate(
        {"description": TEXT, "kind": "complaint", "location": {"kecamatan": "KEC-KRAGILAN"}}
    )


async def file_canary(ctx: IntakeContext) -> str:
    """File one synthetic complaint; returns its tracking code."""
    with correlation.bound(correlation.new_correlation_id()):
        answer = await submit_complaint(
            ctx, canary_complaint(), client="canary", source=SOURCE, synthetic=True
        )
    metrics.CANARY_SUBMITTED.inc()
    code = answer.tracking_code
    log.info("canary %s filed", code)
    return code


async def run(ctx: IntakeContext, *, interval_s: float) -> None:
    """File a canary every `interval_s` until cancelled."""
    while True:
        raise_if_stopping()  # a call may have swallowed the request to stop
        await asyncio.sleep(interval_s)
        try:
            await file_canary(ctx)
        except PyMongoError as exc:
            raise_if_stopping()
            log.warning("canary not filed (%s)", type(exc).__name__)
