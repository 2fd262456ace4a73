"""`make bench`: classifications per second per core of the router (`router.classify`).

One process, one thread, CPU time: the rate is per core. Every labelled example is classified
once per round; after a warm-up round, the median of several rounds is reported for the live
router (with the classifier) and for rules only, in the same run. A last set of rounds starts
each round with an empty stem cache, the cost of words never seen before. The result is
printed and written to var/bench/routing.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from services.routing import model_cache
from services.routing.classification import router
from services.routing.classification import text as nlp
from services.routing.classification.examples import Example, packaged_examples
from services.routing.settings import RoutingSettings
from shared.catalogue import Catalogue, packaged_catalogue
from shared.workdays import JAKARTA

DEFAULT_OUTPUT: Final = Path("var/bench/routing.json")
ROUNDS: Final = 7
WARMUP_ROUNDS: Final = 1


def _round(examples: Sequence[Example], classify: Callable[[Example], object]) -> float:
    """Classifications per CPU second for one pass over the examples."""
    start = time.process_time()
    for example in examples:
        classify(example)
    elapsed = time.process_time() - start
    return len(examples) / elapsed if elapsed > 0 else float("inf")


def measure(
    examples: Sequence[Example],
    classify: Callable[[Example], object],
    *,
    rounds: int,
    warmup: int,
    cold: bool = False,
) -> dict[str, Any]:
    for _ in range(warmup):
        _round(examples, classify)
    rates: list[float] = []
    for _ in range(rounds):
        if cold:
            nlp.stem.cache_clear()
        rates.append(_round(examples, classify))
    return {
        "median_per_second": round(statistics.median(rates)),
        "rounds_per_second": [round(r) for r in rates],
        "median_microseconds": round(1e6 / statistics.median(rates), 1),
    }


def _classifier(
    catalogue: Catalogue, model: router.TextModel | None, threshold: float
) -> Callable[[Example], object]:
    def classify(example: Example) -> object:
        return router.classify(
            text=example.text,
            category=example.category,
            kecamatan=example.kecamatan,
            catalogue=catalogue,
            threshold=threshold,
            model=model,
        )

    return classify


def run(*, rounds: int = ROUNDS, warmup: int = WARMUP_ROUNDS) -> dict[str, Any]:
    catalogue = packaged_catalogue()
    examples = list(packaged_examples())
    threshold: float = RoutingSettings.model_fields["confidence_threshold"].default
    model = model_cache.packaged_model()
    live = _classifier(catalogue, model, threshold)
    rules_only = _classifier(catalogue, None, threshold)
    with_model = measure(examples, live, rounds=rounds, warmup=warmup)
    without = measure(examples, rules_only, rounds=rounds, warmup=warmup)
    cold = measure(examples, live, rounds=rounds, warmup=0, cold=True)
    return {
        "benchmark": "services.routing.classification.router.classify",
        "unit": "classifications per CPU second (one core)",
        "date": datetime.now(tz=JAKARTA).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "examples_per_round": len(examples),
        "rounds": rounds,
        "warmup_rounds": warmup,
        "model": model.version,
        "with_classifier": with_model,
        "rules_only": without,
        "with_classifier_cold_stem_cache": cold,
        "rules_only_vs_with_classifier": round(
            without["median_per_second"] / with_model["median_per_second"], 2
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--warmup", type=int, default=WARMUP_ROUNDS)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    result = run(rounds=args.rounds, warmup=args.warmup)
    text = json.dumps(result, indent=2)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(
        f"classify(), {result['examples_per_round']} examples x {result['rounds']} rounds, "
        f"median per core:\n"
        f"  with classifier ({result['model']}): "
        f"{result['with_classifier']['median_per_second']:>7}/s "
        f"({result['with_classifier']['median_microseconds']} µs each)\n"
        f"  rules only:          {result['rules_only']['median_per_second']:>7}/s "
        f"({result['rules_only']['median_microseconds']} µs each)\n"
        f"  with classifier, cold stem cache: "
        f"{result['with_classifier_cold_stem_cache']['median_per_second']}/s\n"
        f"  rules only / with classifier: {result['rules_only_vs_with_classifier']}x\n"
        f"written to {args.output}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
