"""The classifier's dry run (services/routing/staff.py `dry_run`, `POST /api/v1/routing/classify`
and the console's triage candidates) on the in-memory stores, with the real router and the
packaged model: the same answer live routing gives, as a typed view, and nothing stored."""

from __future__ import annotations

import dataclasses

from services.routing import model_cache, staff
from services.routing.classification import router
from services.routing.settings import RoutingSettings
from services.routing.views import Classified
from shared.catalogue import LUAR_KEWENANGAN, TRIASE, packaged_catalogue
from shared.tickets import RoutingAlternative
from tests.fakes import InMemoryTickets, PackagedModel, routing_context

ROAD = "jalan berlubang di depan sekolah sdh sebulan tdk diperbaiki"


async def test_a_dry_run_answers_what_live_routing_would_and_stores_nothing() -> None:
    models = PackagedModel()
    tickets = InMemoryTickets()
    ctx = routing_context(tickets, models=models)
    answer = await staff.dry_run(ctx, text=ROAD, category=None, kecamatan="KEC-CIRUAS")
    live = router.classify(
        text=ROAD,
        category=None,
        kecamatan="KEC-CIRUAS",
        desa=None,
        catalogue=packaged_catalogue(),
        threshold=RoutingSettings().confidence_threshold,
        model=model_cache.packaged_model(),
    )
    assert isinstance(answer, Classified)
    assert answer == Classified(
        opd=live.opd,
        confidence=live.confidence,
        reasons=tuple(live.reasons),
        alternatives=tuple(
            RoutingAlternative(opd=a.opd, confidence=a.confidence) for a in live.alternatives
        ),
        referral=None,
        model=live.model,
    )
    assert answer.opd == "DPUPR" and answer.reasons and 0 < answer.confidence <= 1
    assert answer.opd not in {a.opd for a in answer.alternatives}
    assert models.examples == [] and tickets.docs == {} and tickets.writes == 0


async def test_a_matter_of_no_kabupaten_unit_is_answered_with_a_referral() -> None:
    ctx = routing_context(InMemoryTickets(), models=PackagedModel())
    answer = await staff.dry_run(
        ctx, text="listrik padam terus dari PLN tiap malam", category=None, kecamatan=None
    )
    assert answer.opd == LUAR_KEWENANGAN and answer.referral


async def test_below_the_confidence_threshold_the_dry_run_sends_it_to_triage() -> None:
    ctx = routing_context(InMemoryTickets(), models=PackagedModel())
    unsure = dataclasses.replace(ctx, settings=RoutingSettings(confidence_threshold=1.0))
    text = "mohon dibantu pak urusan kemarin belum selesai juga"
    sure = await staff.dry_run(ctx, text=text, category=None, kecamatan=None)
    answer = await staff.dry_run(unsure, text=text, category=None, kecamatan=None)
    assert sure.confidence < 1.0
    assert answer.opd == TRIASE
