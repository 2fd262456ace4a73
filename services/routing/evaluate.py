"""`make eval-routing`: train on part of the labelled examples and report on the rest.

The split is stratified by class and seeded, so every run on the same examples gives the same
numbers. Three routers are scored on the held-out part: the full router (rules, category,
location and the classifier trained on the training part), the rules alone, and the classifier
alone. The report is printed and written to docs/routing-eval.md.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Final

from services.routing import domain
from services.routing.classifier import (
    Example,
    Model,
    Report,
    evaluate,
    packaged_examples,
    stratified_split,
)
from services.routing.settings import RoutingSettings
from shared.catalogue import Catalogue, packaged_catalogue
from shared.workdays import JAKARTA

SEED: Final = 20250417
DEFAULT_OUTPUT: Final = Path("docs/routing-eval.md")
COMMAND: Final = "make eval-routing"
STABILITY_SEEDS: Final = tuple(range(1, 21))


def summary_row(name: str, report: Report) -> str:
    return (
        f"| {name} | {report.accuracy:.1%} | {report.macro_f1:.3f} | {report.triage_rate:.1%} "
        f"| {report.routed_accuracy:.1%} |"
    )


def per_opd_table(report: Report) -> list[str]:
    lines = ["| OPD | precision | recall | F1 | held-out examples |", "|---|---|---|---|---|"]
    for label, s in report.per_opd.items():
        lines.append(f"| {label} | {s.precision:.2f} | {s.recall:.2f} | {s.f1:.2f} | {s.support} |")
    return lines


def misroutes(
    held_out: Sequence[Example],
    *,
    catalogue: Catalogue,
    model: Model,
    threshold: float,
    margin: float,
) -> list[str]:
    """Expected -> answered pairs that went wrong, most frequent first."""
    wrong: Counter[tuple[str, str]] = Counter()
    for e in held_out:
        answer = domain.classify(
            text=e.text,
            category=e.category,
            kecamatan=e.kecamatan,
            catalogue=catalogue,
            threshold=threshold,
            model=model,
            margin=margin,
        ).opd
        if answer != e.opd:
            wrong[(e.opd, answer)] += 1
    return [f"{expected} → {answer}: {n}" for (expected, answer), n in wrong.most_common()]


def stability(
    examples: Sequence[Example],
    *,
    catalogue: Catalogue,
    threshold: float,
    margin: float,
    seeds: Sequence[int],
) -> list[str]:
    """The live router's numbers over other seeded splits: mean, lowest and highest."""
    reports = []
    for s in seeds:
        train, held_out = stratified_split(examples, seed=s)
        model = domain.train_router_model(train, catalogue)
        reports.append(
            domain.evaluate_router(
                held_out, catalogue=catalogue, model=model, threshold=threshold, margin=margin
            )
        )
    lines = ["| measure | mean | lowest | highest |", "|---|---|---|---|"]
    for name, values in (
        ("accuracy", [r.accuracy for r in reports]),
        ("macro-F1", [r.macro_f1 for r in reports]),
        ("triage rate", [r.triage_rate for r in reports]),
        ("routed accuracy", [r.routed_accuracy for r in reports]),
    ):
        mean = sum(values) / len(values)
        lines.append(f"| {name} | {mean:.3f} | {min(values):.3f} | {max(values):.3f} |")
    return lines


def run(*, threshold: float, margin: float, seed: int = SEED) -> str:
    """The evaluation as a Markdown document."""
    catalogue = packaged_catalogue()
    examples = list(packaged_examples())
    train, held_out = stratified_split(examples, seed=seed)
    model = domain.train_router_model(train, catalogue)
    full = domain.evaluate_router(
        held_out, catalogue=catalogue, model=model, threshold=threshold, margin=margin
    )
    rules_only = domain.evaluate_router(
        held_out, catalogue=catalogue, model=None, threshold=threshold, margin=margin
    )
    model_only = evaluate(model, held_out, threshold=threshold, margin=margin)
    wrong = misroutes(
        held_out, catalogue=catalogue, model=model, threshold=threshold, margin=margin
    )
    today = datetime.now(tz=JAKARTA).date().isoformat()
    lines = [
        "# Routing evaluation",
        "",
        f"Produced by `{COMMAND}` (`python -m services.routing.evaluate`) on {today}.",
        "",
        f"- Labelled examples: {len(examples)} in `services/routing/data/examples.jsonl`.",
        f"- Split: stratified by class, seed {seed}: {len(train)} to train on, "
        f"{len(held_out)} held out. The classifier also learns the catalogue's keywords and "
        "descriptions (never the held-out texts).",
        f"- Threshold {threshold:.2f}, margin {margin:.2f}: below the threshold, or with the "
        "runner-up closer than the margin, the answer is TRIASE.",
        f"- Model trained on the training part: `{model.version}`; "
        f"rules `{domain.rule_book(catalogue).version}`.",
        "- Accuracy counts a TRIASE answer as wrong unless the example is labelled TRIASE. "
        "'Routed accuracy' is the accuracy of the answers that were not TRIASE. Kecamatan offices "
        "are one row, KECAMATAN (an answer counts only when it names the right office).",
        "",
        "## Summary (held-out examples)",
        "",
        "| router | accuracy | macro-F1 | triage rate | routed accuracy |",
        "|---|---|---|---|---|",
        summary_row("rules + category + location + classifier (live)", full),
        summary_row("rules + category + location, no classifier", rules_only),
        summary_row("classifier alone (text only)", model_only),
        "",
        "## Per OPD (live router)",
        "",
        *per_opd_table(full),
        "",
        f"## Stability: the live router over {len(STABILITY_SEEDS)} other seeded splits",
        "",
        *stability(
            examples,
            catalogue=catalogue,
            threshold=threshold,
            margin=margin,
            seeds=STABILITY_SEEDS,
        ),
        "",
        "## Wrong answers (expected → answered)",
        "",
        *([f"- {line}" for line in wrong] or ["- none"]),
        "",
        "These examples were written for this project, and the phrase rules were written with "
        "knowledge of them, so these numbers are optimistic. Complaints written in a voice the "
        "router has not seen score lower: see docs/routing.md, 'How good is it'.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    default_threshold = RoutingSettings.model_fields["confidence_threshold"].default
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threshold", type=float, default=default_threshold)
    parser.add_argument("--margin", type=float, default=domain.DEFAULT_MARGIN)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    document = run(threshold=args.threshold, margin=args.margin, seed=args.seed)
    sys.stdout.write(document)
    if not args.no_write:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(document, encoding="utf-8")
        sys.stdout.write(f"\nwritten to {args.output}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
