"""The pages' gettext catalogues: they parse, agree across languages, and have words for every
message the templates and code use (a missing message fails here, not on a citizen's screen)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services.intake.web.page import KIT as INTAKE
from services.routing import workflow
from services.routing.queries import SORTS
from services.routing.web.page import KIT as CONSOLE
from shared.auth import Role
from shared.pages import check
from shared.pages.i18n import LANGUAGES, Catalogues, Translator, catalogue_path
from shared.pages.page import PageKit
from shared.tickets import Kind, TicketStatus


def test_every_catalogue_parses_and_every_used_message_has_words_in_each_language() -> None:
    assert check.problems() == []


def test_the_check_sees_the_literal_uses_of_both_services() -> None:
    used = {s.name: {key for key, _ in s.used()} for s in check.services()}
    assert {"form.title", "err.csrf", "site.skip", "error.prefix"} <= used["intake"]
    assert {"queue.title", "signin.title", "err.credentials", "errors.summary"} <= used["routing"]


def _copy_locale(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "locale"
    shutil.copytree(source, target)
    return target


def _drop(path: Path, msgid: str) -> None:
    text = path.read_text(encoding="utf-8")
    start = text.index(f'msgid "{msgid}"')
    end = text.index("\n\n", start)
    path.write_text(text[:start] + text[end + 2 :], encoding="utf-8")


def test_a_message_missing_in_one_language_is_reported(tmp_path: Path) -> None:
    locale = _copy_locale(INTAKE.catalogues.locale_dir, tmp_path)
    _drop(catalogue_path(locale, "en"), "form.title")
    assert any("'form.title'" in p for p in check.catalogue_problems(locale))
    sources = check.PageSources(
        "intake", locale, [check.ROOT / "services/intake/templates/form.html"]
    )
    assert any("'form.title' has no words in en" in p for p in check.usage_problems(sources))


def test_different_placeholders_across_languages_are_reported(tmp_path: Path) -> None:
    locale = _copy_locale(INTAKE.catalogues.locale_dir, tmp_path)
    path = catalogue_path(locale, "en")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Wait {seconds} seconds", "Wait {secs} seconds"), encoding="utf-8")
    assert any("'err.rate': placeholders" in p for p in check.catalogue_problems(locale))


def test_a_broken_catalogue_is_reported(tmp_path: Path) -> None:
    locale = _copy_locale(CONSOLE.catalogues.locale_dir, tmp_path)
    path = catalogue_path(locale, "id")
    path.write_text(path.read_text(encoding="utf-8") + '\nmsgid "x"\nmsgstr "unterminated\n')
    assert any("does not parse" in p for p in check.catalogue_problems(locale))


@pytest.mark.parametrize("kit", [INTAKE, CONSOLE], ids=["intake", "console"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_names_built_at_run_time_have_words(kit: PageKit, lang: str) -> None:
    t = kit.translator("id" if lang == "id" else "en")
    names = [f"status.{s.value}" for s in TicketStatus] + [f"kind.{k.value}" for k in Kind]
    if kit is CONSOLE:
        names += [f"role.{r.value}" for r in Role]
        names += [f"reason.{r.value}" for r in workflow.RejectReason]
        names += [f"sort.{s}" for s in SORTS] + [f"done.{a.value}" for a in workflow.Action]
    assert [name for name in names if not t.has(name)] == []


def test_a_service_word_overrides_the_shared_one_and_an_edit_shows_after_a_new_read(
    tmp_path: Path,
) -> None:
    locale = _copy_locale(INTAKE.catalogues.locale_dir, tmp_path)
    path = catalogue_path(locale, "en")
    path.write_text(
        path.read_text(encoding="utf-8") + '\nmsgid "lang.other"\nmsgstr "Bahasa"\n',
        encoding="utf-8",
    )
    t = Translator(Catalogues(locale), "en")
    assert t("lang.other") == "Bahasa"
    assert t("site.skip") == INTAKE.translator("en")("site.skip")  # from the shared catalogue
    assert t.gettext("no.such.key") == "no.such.key"  # gettext's contract
