"""The pages' words: gettext catalogues per language, and the Translator the pages call.

Each service keeps its own catalogue (`services/<name>/locale/<lang>/LC_MESSAGES/messages.po`);
words both services show alike live in this package's catalogue, which a service's own
overrides. Msgids are keys (`form.title`), so one msgid names the same words in every language;
placeholders are `{name}` (python-brace-format). The `.po` files are read at first use with
Babel's reader: there is no compile step, and a translator's edit shows on the next start.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from babel.messages.pofile import read_po

from shared.months import MONTHS, month_label
from shared.workdays import JAKARTA

Lang = Literal["id", "en"]
LANGUAGES: tuple[Lang, ...] = ("id", "en")
DEFAULT_LANG: Lang = "id"
DOMAIN = "messages"
SHARED_LOCALE = Path(__file__).parent / "locale"

# The services' messages read "Indonesian. (English.)": one half is shown per language.
_BILINGUAL = re.compile(r"^(?P<id>.*?)\s*\((?P<en>[^()]*)\)\s*$", re.DOTALL)
_PYDANTIC_PREFIX = re.compile(r"^(Value error|Assertion failed), ", re.IGNORECASE)


def language(value: str | None) -> Lang | None:
    """A supported language code, or None."""
    if value == "id":
        return "id"
    if value == "en":
        return "en"
    return None


def catalogue_path(locale_dir: Path, lang: Lang) -> Path:
    """Where one language's catalogue of a locale folder lives (gettext's layout)."""
    return locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(path: Path) -> dict[str, str]:
    """A `.po` file's translated messages, {msgid: msgstr}; fuzzy and empty ones left out."""
    with path.open("rb") as file:
        catalog = read_po(file, abort_invalid=True)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and isinstance(message.string, str) and message.string and not message.fuzzy
    }


class Catalogues:
    """A service's messages per language: its own catalogue over the shared one."""

    def __init__(self, locale_dir: Path) -> None:
        self.locale_dir = locale_dir
        self._messages = functools.cache(self._load)

    def _load(self, lang: Lang) -> Mapping[str, str]:
        return {
            **read_catalogue(catalogue_path(SHARED_LOCALE, lang)),
            **read_catalogue(catalogue_path(self.locale_dir, lang)),
        }

    def messages(self, lang: Lang) -> Mapping[str, str]:
        """Every message of `lang`, read once per process."""
        return self._messages(lang)


class Translator:
    """The words of one language, callable from code and templates: `t("form.title")`.

    Also gettext's callables for Jinja2's i18n extension (`_()`, `{% trans %}`), and the
    formats of dates; a service's subclass may change those.
    """

    def __init__(self, catalogues: Catalogues, lang: Lang) -> None:
        self.lang = lang
        self._messages = catalogues.messages(lang)

    def __call__(self, key: str, **values: Any) -> str:
        text = self._messages[key]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._messages

    def get(self, key: str, fallback: str) -> str:
        """The words for `key`, or `fallback` (e.g. a code nobody named yet)."""
        return self._messages.get(key, fallback)

    def gettext(self, message: str) -> str:
        """gettext's contract: the translation, or the msgid itself when there is none."""
        return self._messages.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Indonesian has one form; English picks by `n`."""
        return self.gettext(singular if n == 1 or self.lang == "id" else plural)

    def date(self, value: datetime) -> str:
        """`7 Maret 2025` / `7 March 2025`, in Jakarta time."""
        local = value.astimezone(JAKARTA)
        return f"{local.day} {MONTHS[self.lang][local.month - 1]} {local.year}"

    def datetime(self, value: datetime) -> str:
        """`7 Maret 2025 pukul 14.05 WIB` / `7 March 2025, 14:05 WIB`."""
        local = value.astimezone(JAKARTA)
        if self.lang == "id":
            return f"{self.date(local)} pukul {local:%H.%M} WIB"
        return f"{self.date(local)}, {local:%H:%M} WIB"

    def month_name(self, month: str) -> str:
        """`2026-05` as `Mei 2026` / `May 2026`."""
        return month_label(month, self.lang)

    def month_short(self, month: str) -> str:
        """`2026-05` as `Mei 26`: a chart's axis."""
        return month_label(month, self.lang, short=True)

    def pick(self, message: str) -> str:
        """The half of an "Indonesian. (English.)" message that fits the language."""
        message = _PYDANTIC_PREFIX.sub("", message.strip())
        found = _BILINGUAL.match(message)
        if found is None:
            return message
        return found["id"] if self.lang == "id" else found["en"]

    def field_error(self, field: str, type_: str, ctx: Mapping[str, Any], message: str) -> str:
        """A validation error in words: field-specific, else by error type, else the message."""
        for key in (f"err.{field}.{type_}", f"err.{type_}"):
            if key in self._messages:
                try:
                    return self(key, **ctx)
                except (KeyError, IndexError):
                    continue
        return self.pick(message) or self("err.generic")
