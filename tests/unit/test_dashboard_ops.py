"""The Grafana dashboard covers what ops watch (journey, flow, backlog and overdue per OPD,
consumer lag, notifications) and every metric family the code defines, so the two cannot
drift apart: a new metric without a panel fails here, as a panel on a metric that does not
exist fails in test_deploy_k8s.py."""

from __future__ import annotations

from tests.unit.test_deploy_k8s import defined_metrics, expressions, metric_names, panels

# Families on purpose without a panel, and why.
NOT_ON_THE_DASHBOARD = {
    "pengaduan_chat_statuses_total": "WhatsApp's delivery statuses: docs/whatsapp.md",
}


def used() -> set[str]:
    return set().union(*(metric_names(e) for e in expressions()))


def family(series: str) -> str:
    for suffix in ("_bucket", "_count", "_sum"):
        if series.endswith(suffix):
            return series.removesuffix(suffix)
    return series


def test_every_metric_family_is_on_the_dashboard_or_excused() -> None:
    on_dashboard = {family(name) for name in used()}
    for name in defined_metrics():
        assert name in on_dashboard or name in NOT_ON_THE_DASHBOARD, f"{name} has no panel"
    assert not set(NOT_ON_THE_DASHBOARD) & on_dashboard


def test_the_dashboard_covers_journey_flow_backlog_lag_and_notifications() -> None:
    series = used()
    assert {
        "pengaduan_journey_seconds_bucket",
        "pengaduan_complaints_submitted_total",
        "pengaduan_routing_decisions_total",
        "pengaduan_tickets",
        "pengaduan_tickets_overdue",
        "pengaduan_consumer_lag",
        "pengaduan_event_age_seconds_bucket",
        "pengaduan_outbox_oldest_age_seconds",
        "pengaduan_notification_send_seconds_bucket",
    } <= series
    overdue = [e for e in expressions() if "pengaduan_tickets_overdue" in e]
    assert any("by (opd)" in e for e in overdue), "no overdue-per-OPD panel"
    titles = {p["title"] for p in panels()}
    assert {"Overdue tickets per OPD", "Consumer lag per consumer"} <= titles
