"""Checks of the pages' catalogues: each parses, has the same msgids and placeholders in every
language, and has words for every message the templates and code name literally.

`python -m shared.pages.check [--pot DIR]` (and `make messages`) prints what is wrong and exits
1; with `--pot` it also writes `DIR/<service>.pot`, the msgids the service uses literally with
the files that use them (for a translator's tool). tests/unit/test_page_catalogues.py runs the
same checks.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from shared.pages.i18n import LANGUAGES, SHARED_LOCALE, catalogue_path, read_catalogue
from shared.pages.page import SHARED_TEMPLATES

ROOT = Path(__file__).resolve().parents[2]
# `_("key")` in templates; `t("key")`, `page.t("key")`, `self("key")` in code. Keys built at
# run time (`"status." ~ status`, f-strings) are not seen here: their families are checked by
# the unit test.
_USES = (
    re.compile(r"""(?<![\w.])_\(\s*["']([a-z][\w.\-]*)["']\s*[,)]"""),
    re.compile(r"""(?<![\w])(?:t|self)\(\s*["']([a-z][\w.\-]*)["']\s*[,)]"""),
)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class PageSources:
    """One service's pages: its catalogues' folder and the files that name their messages."""

    name: str
    locale: Path
    files: Sequence[Path]

    def used(self) -> Iterator[tuple[str, Path]]:
        """Every literal msgid the files use, with the file that uses it."""
        for path in self.files:
            text = path.read_text(encoding="utf-8")
            for pattern in _USES:
                for found in pattern.finditer(text):
                    yield found.group(1), path


def _files(*patterns: str) -> list[Path]:
    return sorted(path for pattern in patterns for path in ROOT.glob(pattern))


def services() -> list[PageSources]:
    """The two services that have pages, each with the shared templates too."""
    shared = [str(SHARED_TEMPLATES.relative_to(ROOT) / "*.html")]
    return [
        PageSources(
            "intake",
            ROOT / "services/intake/locale",
            _files(
                "services/intake/templates/*.html",
                "services/intake/web/*.py",
                "services/intake/statistics.py",
                *shared,
            ),
        ),
        PageSources(
            "routing",
            ROOT / "services/routing/locale",
            _files(
                "services/routing/templates/*.html",
                "services/routing/web/*.py",
                "services/routing/reports.py",
                *shared,
            ),
        ),
    ]


def _line_problems(path: Path) -> list[str]:
    """What Babel's reader lets pass: an unterminated string (it cuts it) or a msgid twice."""
    problems, seen = [], set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(("msgid ", "msgstr ", '"')) and not (
            stripped.endswith('"') and not stripped.endswith('\\"') and stripped.count('"') >= 2
        ):
            problems.append(f"{path}:{number}: does not parse: unterminated string")
        if stripped.startswith("msgid "):
            if stripped in seen:
                problems.append(f"{path}:{number}: {stripped} twice")
            seen.add(stripped)
    return problems


def catalogue_problems(locale: Path) -> list[str]:
    """A locale folder's catalogues against each other: msgids and placeholders alike."""
    problems: list[str] = []
    messages = {}
    for lang in LANGUAGES:
        path = catalogue_path(locale, lang)
        problems += _line_problems(path)
        try:
            messages[lang] = read_catalogue(path)
        except Exception as exc:  # noqa: BLE001 (any parse error is the finding)
            problems.append(f"{path}: does not parse: {exc}")
    if len(messages) < len(LANGUAGES):
        return problems
    first, *others = LANGUAGES
    for lang in others:
        for missing in sorted(set(messages[first]) - set(messages[lang])):
            problems.append(f"{catalogue_path(locale, lang)}: no words for {missing!r}")
        for missing in sorted(set(messages[lang]) - set(messages[first])):
            problems.append(f"{catalogue_path(locale, first)}: no words for {missing!r}")
        for key in sorted(set(messages[first]) & set(messages[lang])):
            a = set(_PLACEHOLDER.findall(messages[first][key]))
            b = set(_PLACEHOLDER.findall(messages[lang][key]))
            if a != b:
                problems.append(
                    f"{key!r}: placeholders {sorted(a)} ({first}), {sorted(b)} ({lang})"
                )
    return problems


def usage_problems(sources: PageSources) -> list[str]:
    """Msgids the service's templates and code use that a language has no words for."""
    problems = []
    for lang in LANGUAGES:
        known = {
            **read_catalogue(catalogue_path(SHARED_LOCALE, lang)),
            **read_catalogue(catalogue_path(sources.locale, lang)),
        }
        for key, path in sources.used():
            if key not in known:
                problems.append(f"{path.relative_to(ROOT)}: {key!r} has no words in {lang}")
    return sorted(set(problems))


def problems() -> list[str]:
    """Everything wrong with every catalogue and its use."""
    found = catalogue_problems(SHARED_LOCALE)
    for sources in services():
        found += catalogue_problems(sources.locale)
        found += usage_problems(sources)
    return found


def write_template(sources: PageSources, directory: Path) -> Path:
    """The service's literal msgids as a gettext template (`.pot`), with where each is used."""
    catalog = Catalog(project=f"layanan-pengaduan {sources.name}", fuzzy=False)
    for key, path in sources.used():
        catalog.add(key, locations=[(str(path.relative_to(ROOT)), 0)])
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{sources.name}.pot"
    with target.open("wb") as file:
        write_po(file, catalog, width=100, include_lineno=False, sort_output=True)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the pages' gettext catalogues.")
    parser.add_argument("--pot", type=Path, help="also write each service's .pot here")
    args = parser.parse_args(argv)
    if args.pot is not None:
        for sources in services():
            print(f"wrote {write_template(sources, args.pot)}")
    found = problems()
    for problem in found:
        print(problem)
    if not found:
        count = sum(len(list(s.used())) for s in services())
        print(f"catalogues OK ({count} literal uses checked)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
