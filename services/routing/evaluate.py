"""`make eval-routing`: how well the router picks the right unit, on text it was not trained on.

Two kinds of test text:
- the project's own held-back split: a stratified, seeded 30% of the packaged examples, the
  rest trained on (these texts were written for the project, so the numbers are optimistic);
- the validation sets: real complaints citizens of other regions sent to their governments,
  labelled with the unit that handled them (`../shared/data/routing-validation/`, beside the
  repository; read there, never copied in, never trained on). Models for them are trained on
  every packaged example, as the shipped model is.
Routers compared on the same texts: the router as it was before the linear model (phrase rules
plus naive Bayes on data/examples.jsonl), a standard linear model (scikit-learn's TF-IDF over
raw word and character n-grams, logistic regression), the project's linear model alone, the
router that ships, and the same with PySastrawi's stemmer. For each: accuracy (TRIASE counts as
wrong), triage rate, routed precision, macro recall and the largest confusions; for the shipped
router a precision/coverage curve per validation set, from which the threshold is chosen.
The report is printed and written to docs/routing-eval.md.

`--shipped-only` measures just the shipped router on the validation sets, with the packaged
model from the model cache (trained only when the corpus changed): a quick check while
working on the rules or the corpus, printed and never written to the report.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from services.routing.classification import router
from services.routing.classification import text as nlp
from services.routing.classification.examples import (
    KECAMATAN,
    Example,
    label_of,
    original_examples,
    packaged_examples,
    stratified_split,
)
from services.routing.classification.model import settings_from
from services.routing.classification.naive_bayes import NaiveBayesTextModel
from services.routing.classification.naive_bayes import train as train_naive_bayes
from services.routing.classification.scoring import Report, score
from services.routing.settings import RoutingSettings
from shared.catalogue import TRIASE, Catalogue, packaged_catalogue
from shared.workdays import JAKARTA

SEED: Final = 20250417
ROOT: Final = Path(__file__).resolve().parents[2]
VALIDATION_DIR: Final = ROOT.parent / "shared" / "data" / "routing-validation"
DEFAULT_OUTPUT: Final = Path("docs/routing-eval.md")
COMMAND: Final = "make eval-routing"
CURVE_THRESHOLDS: Final = (0.0, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8)
# The router before the linear model combined its evidence with these weights.
BEFORE_WEIGHTS: Final = router.Weights(model=0.7, rule=1.2, category=4.0)
PLACEHOLDER_KECAMATAN: Final = "KEC-CIRUAS"


@dataclass(frozen=True)
class Case:
    """A text to route and the codes that count as right."""

    text: str
    expected: tuple[str, ...]
    category: str | None = None
    kecamatan: str | None = None


Answer = Callable[[Case], str]


def own_cases(examples: Sequence[Example]) -> list[Case]:
    return [Case(e.text, (e.opd,), e.category, e.kecamatan) for e in examples]


def validation_sets(directory: Path) -> dict[str, list[Case]]:
    """The validation sets found in `directory` (name -> cases); empty when it is absent."""
    found: dict[str, list[Case]] = {}
    for path in sorted(directory.glob("*.jsonl")) if directory.is_dir() else []:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        found[path.stem] = [Case(str(r["text"]), tuple(r["expected"])) for r in rows]
    return found


def run_report(cases: Sequence[Case], answer: Answer) -> Report:
    return score((c.expected, answer(c)) for c in cases)


# The routers compared.


def full_router(
    model: router.TextModel | None,
    catalogue: Catalogue,
    *,
    threshold: float,
    margin: float,
    weights: router.Weights | None = None,
) -> Answer:
    def answer(case: Case) -> str:
        return router.classify(
            text=case.text,
            category=case.category,
            kecamatan=case.kecamatan,
            catalogue=catalogue,
            threshold=threshold,
            model=model,
            margin=margin,
            weights=weights,
        ).opd

    return answer


def decide(proba: dict[str, float], *, threshold: float, margin: float, located: bool) -> str:
    """A model's own answer: the top class unless unsure; a kecamatan matter needs a place."""
    ranked = sorted(proba.items(), key=lambda kv: (-kv[1], kv[0]))
    if not ranked:
        return TRIASE
    (best, p1), p2 = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
    if p1 < threshold or p1 - p2 < margin or (best == KECAMATAN and not located):
        return TRIASE
    return PLACEHOLDER_KECAMATAN if best == KECAMATAN else best


def linear_alone(model: router.LinearTextModel, *, threshold: float, margin: float) -> Answer:
    def answer(case: Case) -> str:
        judgement = model.judge(nlp.analyse(case.text))
        return decide(
            dict(judgement.probabilities),
            threshold=threshold,
            margin=margin,
            located=case.kecamatan is not None,
        )

    return answer


def standard_linear(train: Sequence[Example], *, threshold: float, margin: float) -> Answer:
    """scikit-learn as it comes: TF-IDF over raw word 1-2-grams and character 2-5-grams
    (within words), multinomial logistic regression. No project normalisation or lexicon."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [e.text for e in train]
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    matrix = sparse.hstack([words.fit_transform(texts), chars.fit_transform(texts)]).tocsr()
    model = LogisticRegression(C=10.0, max_iter=300, class_weight="balanced")
    model.fit(matrix, [label_of(e.opd) for e in train])
    classes = [str(c) for c in model.classes_]

    def answer(case: Case) -> str:
        row = sparse.hstack([words.transform([case.text]), chars.transform([case.text])])
        proba = dict(zip(classes, model.predict_proba(row.tocsr())[0].tolist(), strict=True))
        return decide(proba, threshold=threshold, margin=margin, located=case.kecamatan is not None)

    return answer


SHIPPED: Final = 3  # the row of the shipped router in `contenders`


def contenders(
    train: Sequence[Example],
    originals: Sequence[Example],
    catalogue: Catalogue,
    *,
    threshold: float,
    margin: float,
) -> tuple[list[tuple[str, Answer]], router.LinearTextModel]:
    """The routers compared, trained on `train` (the "before" router on `originals`), and the
    shipped model."""
    say(f"training the routers on {len(train)} examples ...")
    shipped = router.train_router_model(train, catalogue)
    sastrawi = router.train_router_model(
        train, catalogue, settings=settings_from({"stemmer": "sastrawi"})
    )
    before = naive_bayes_before(originals, catalogue)
    rows: list[tuple[str, Answer]] = [
        (
            "before: rules + naive Bayes on examples.jsonl",
            full_router(
                before, catalogue, threshold=threshold, margin=margin, weights=BEFORE_WEIGHTS
            ),
        ),
        (
            "standard linear model (scikit-learn, raw text)",
            standard_linear(train, threshold=threshold, margin=margin),
        ),
        (
            "linear model alone (project normalisation, lexicon)",
            linear_alone(shipped, threshold=threshold, margin=margin),
        ),
        (
            "shipped: linear model + rules + category + location",
            full_router(shipped, catalogue, threshold=threshold, margin=margin),
        ),
        (
            "shipped, with PySastrawi stemming",
            full_router(sastrawi, catalogue, threshold=threshold, margin=margin),
        ),
    ]
    return rows, shipped


def naive_bayes_before(train: Sequence[Example], catalogue: Catalogue) -> NaiveBayesTextModel:
    """The classifier of the router before this one: naive Bayes on the first examples."""
    return NaiveBayesTextModel(train_naive_bayes([*train, *router.catalogue_examples(catalogue)]))


# Rendering.


def summary_table(rows: Sequence[tuple[str, Report]]) -> list[str]:
    lines = [
        "| router | accuracy | triage rate | routed precision | macro recall | macro-F1 |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {r.accuracy:.3f} | {r.triage_rate:.1%} | {r.routed_accuracy:.3f} "
        f"| {r.macro_recall:.3f} | {r.macro_f1:.3f} |"
        for name, r in rows
    ]
    return lines


def confusions(report: Report, n: int = 10) -> list[str]:
    pairs = report.largest_confusions(n)
    return [f"- {e} → {a}: {count}" for e, a, count in pairs] or ["- none"]


def per_unit(report: Report) -> list[str]:
    lines = ["| unit | precision | recall | F1 | texts |", "|---|---|---|---|---|"]
    for label, s in report.per_opd.items():
        lines.append(f"| {label} | {s.precision:.2f} | {s.recall:.2f} | {s.f1:.2f} | {s.support} |")
    return lines


def curve(cases: Sequence[Case], answer_at: Callable[[float], Answer]) -> list[str]:
    lines = [
        "| threshold | coverage (routed) | routed precision | accuracy | triage rate |",
        "|---|---|---|---|---|",
    ]
    for t in CURVE_THRESHOLDS:
        r = run_report(cases, answer_at(t))
        lines.append(
            f"| {t:.2f} | {1 - r.triage_rate:.1%} | {r.routed_accuracy:.3f} | {r.accuracy:.3f} "
            f"| {r.triage_rate:.1%} |"
        )
    return lines


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{out} (with uncommitted changes)" if dirty else out


def say(message: str) -> None:
    print(f"[eval-routing] {message}", file=sys.stderr, flush=True)


def run(*, threshold: float, margin: float, validation_dir: Path, seed: int = SEED) -> str:
    """The evaluation as a Markdown document."""
    catalogue = packaged_catalogue()
    examples = list(packaged_examples())
    originals = list(original_examples())
    train, held_out = stratified_split(examples, seed=seed)
    originals_train = [e for e in train if e in set(originals)]
    validation = validation_sets(validation_dir)
    own = own_cases(held_out)
    own_routers, _ = contenders(
        train, originals_train, catalogue, threshold=threshold, margin=margin
    )
    say("scoring the own held-back split ...")
    own_reports = [(name, run_report(own, answer)) for name, answer in own_routers]
    lines = [
        "# Routing evaluation",
        "",
        f"Produced by `{COMMAND}` (`python -m services.routing.evaluate`) on "
        f"{datetime.now(tz=JAKARTA).date().isoformat()}, commit {_commit()}.",
        "",
        f"- Packaged examples: {len(examples)} ({len(originals)} in "
        "`services/routing/data/examples.jsonl`, the rest in `services/routing/data/corpus/`), "
        "written for this project.",
        f"- Threshold {threshold:.2f}, margin {margin:.2f}: below the threshold, or with the "
        "runner-up closer than the margin, the answer is TRIASE.",
        "- Accuracy counts a TRIASE answer as wrong. Routed precision is the accuracy of the "
        "answers that were not TRIASE. Macro recall averages the recall of every unit. "
        "Kecamatan offices are one row, KECAMATAN. A kecamatan matter without a known location "
        "goes to the admin (TRIASE), so it counts as wrong.",
        "",
        f"## Own held-back split (seed {seed}: {len(train)} trained on, {len(held_out)} held out)",
        "",
        "Written by the same hands as the training texts: optimistic.",
        "",
        *summary_table(own_reports),
        "",
        "Largest confusions of the shipped router:",
        "",
        *confusions(own_reports[SHIPPED][1]),
        "",
    ]
    if not validation:
        lines += [
            "## Validation sets",
            "",
            f"**Not measured: no validation sets found in `{validation_dir}`.** They are real "
            "complaints kept beside the repository (`../shared/data/routing-validation/`); "
            "without them this report says nothing about real text.",
            "",
        ]
        return "\n".join(lines)
    full_routers, shipped_model = contenders(
        examples, originals, catalogue, threshold=threshold, margin=margin
    )
    for name, cases in validation.items():
        say(f"scoring validation set {name} ({len(cases)} texts) ...")
        reports = [(label, run_report(cases, answer)) for label, answer in full_routers]
        lines += validation_section(
            name,
            cases,
            reports,
            full_routers[SHIPPED][1],
            lambda t: full_router(shipped_model, catalogue, threshold=t, margin=margin),
            margin=margin,
        )
    return "\n".join(lines)


def validation_section(
    name: str,
    cases: Sequence[Case],
    reports: Sequence[tuple[str, Report]],
    shipped: Answer,
    answer_at: Callable[[float], Answer],
    *,
    margin: float,
) -> list[str]:
    """One validation set's part of the report; `reports[SHIPPED]` or the only one is the
    shipped router's."""
    located = [Case(c.text, c.expected, None, PLACEHOLDER_KECAMATAN) for c in cases]
    with_place = run_report(located, shipped)
    kecamatan_rows = sum(1 for c in cases if KECAMATAN in c.expected)
    main_report = reports[SHIPPED if len(reports) > SHIPPED else 0][1]
    return [
        f"## Validation set `{name}` ({len(cases)} real complaints)",
        "",
        *summary_table(reports),
        "",
        f"{kecamatan_rows} of these texts were handled by a kecamatan office. Without a "
        "location the router sends a kecamatan matter to the admin; had each citizen picked "
        "a kecamatan on the form, the shipped router would score: accuracy "
        f"{with_place.accuracy:.3f}, triage {with_place.triage_rate:.1%}, routed precision "
        f"{with_place.routed_accuracy:.3f}.",
        "",
        "Largest confusions of the shipped router (expected → answered):",
        "",
        *confusions(main_report),
        "",
        f"Precision and coverage of the shipped router by threshold (margin {margin:.2f}):",
        "",
        *curve(cases, answer_at),
        "",
        "Per unit (shipped router; a text any of several units may answer counts under the"
        " one answered when right, else under the first, so `texts` moves a little between"
        " routers):",
        "",
        *per_unit(main_report),
        "",
    ]


def run_shipped(*, threshold: float, margin: float, validation_dir: Path) -> str:
    """The shipped router alone on the validation sets, with the cached packaged model."""
    from services.routing.model_cache import packaged_model

    catalogue = packaged_catalogue()
    say("loading the packaged model (trained once per corpus) ...")
    model = packaged_model()
    lines = [
        "# Routing evaluation: the shipped router only",
        "",
        f"Commit {_commit()}, model {model.version}, threshold {threshold:.2f}, margin "
        f"{margin:.2f}. A quick check; `{COMMAND}` writes the full report.",
        "",
    ]
    for name, cases in validation_sets(validation_dir).items():
        say(f"scoring validation set {name} ({len(cases)} texts) ...")
        shipped = full_router(model, catalogue, threshold=threshold, margin=margin)
        lines += validation_section(
            name,
            cases,
            [("shipped: linear model + rules + category + location", run_report(cases, shipped))],
            shipped,
            lambda t: full_router(model, catalogue, threshold=t, margin=margin),
            margin=margin,
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    default_threshold = RoutingSettings.model_fields["confidence_threshold"].default
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threshold", type=float, default=default_threshold)
    parser.add_argument("--margin", type=float, default=router.DEFAULT_MARGIN)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--validation", type=Path, default=VALIDATION_DIR)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--shipped-only",
        action="store_true",
        help="only the shipped router on the validation sets, with the cached model; print only",
    )
    args = parser.parse_args(argv)
    if not validation_sets(args.validation):
        say(f"no validation sets in {args.validation}: only the own split is measured")
        if args.shipped_only:
            return 1
    if args.shipped_only:
        shipped = run_shipped(
            threshold=args.threshold, margin=args.margin, validation_dir=args.validation
        )
        sys.stdout.write(shipped + "\n")
        return 0
    document = run(
        threshold=args.threshold,
        margin=args.margin,
        validation_dir=args.validation,
        seed=args.seed,
    )
    sys.stdout.write(document)
    if not args.no_write:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(document, encoding="utf-8")
        sys.stdout.write(f"\nwritten to {args.output}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
