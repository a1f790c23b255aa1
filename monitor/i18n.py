"""The seller team's language: what the dashboard (and later alerts and reports) say, in English or
Simplified Chinese. Replies to buyers are not here: they go out in the buyer's language
(`monitor.replies`).

Translations live in gettext catalogs, `monitor/locale/<lang>/LC_MESSAGES/monitor.po`, the format
translators' tools (Poedit, Weblate, Crowdin) read and write. English is the source language: a
string missing from a catalog shows in English, and a test fails for every one that is.
Adding a UI language = adding its `.po` file and its name to UI_LANGUAGES.
"""

from __future__ import annotations

import ast
import os
from functools import lru_cache
from pathlib import Path

from .errors import ConfigError

UI_LANGUAGES = {"en": "English", "zh": "简体中文"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def ui_language() -> str:
    """MONITOR_UI_LANG: `en` (default) or `zh`; anything else is refused in one line."""
    value = os.environ.get("MONITOR_UI_LANG", "").strip().lower() or "en"
    value = {"zh-cn": "zh", "zh_cn": "zh", "zh-hans": "zh", "cn": "zh"}.get(value, value)
    if value not in UI_LANGUAGES:
        raise ConfigError(f"MONITOR_UI_LANG={value!r} is not a UI language: use "
                          f"{' or '.join(UI_LANGUAGES)}")
    return value


def read_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a gettext .po file (singular entries; empty translations left out).
    An entry with a `msgctxt` is keyed "context\x04msgid", as gettext keys it."""
    entries: dict[str, str] = {}
    msgctxt = msgid = msgstr = None
    field = None

    def flush():
        if msgid and msgstr:
            entries[msgid if msgctxt is None else f"{msgctxt}\x04{msgid}"] = msgstr

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("msgctxt "):
            flush()
            msgctxt, msgid, msgstr, field = ast.literal_eval(line[8:]), None, None, "ctxt"
        elif line.startswith("msgid "):
            if field != "ctxt":
                flush()
                msgctxt = None
            msgid, msgstr, field = ast.literal_eval(line[6:]), None, "id"
        elif line.startswith("msgstr "):
            msgstr, field = ast.literal_eval(line[7:]), "str"
        elif line.startswith('"') and field == "ctxt":
            msgctxt += ast.literal_eval(line)
        elif line.startswith('"') and field == "id":
            msgid += ast.literal_eval(line)
        elif line.startswith('"') and field == "str":
            msgstr += ast.literal_eval(line)
        elif not line or line.startswith("#"):
            field = None if not line else field
    flush()
    return entries


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "monitor.po"
    return read_po(path) if lang != "en" and path.exists() else {}


def translate(text: str, lang: str, context: str | None = None) -> str:
    """`text` (English) in `lang`; English where the catalog lacks it. `context` tells apart the
    same English word in two places (gettext's msgctxt), e.g. a column header."""
    if lang == "en":
        return text
    return catalog(lang).get(text if context is None else f"{context}\x04{text}", text)


CATEGORY_CONTEXT = "complaint category"


def category_name(category: str | None, lang: str) -> str:
    """A complaint category (counterfeit, damage, delay, other, none) as the team reads it in
    `lang`: in a spike alert, the improvement report."""
    return translate(category or "", lang, CATEGORY_CONTEXT)
