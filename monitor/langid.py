"""Language of a review when the input does not say: py3langid, limited to marketplace languages."""

from __future__ import annotations

import re
from functools import lru_cache

# Languages seen on cross-border marketplaces; restricting the detector avoids rare-language
# confusions on short texts (short Spanish read as Galician, for example).
MARKETPLACE_LANGUAGES = [
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "sv", "da", "no", "fi", "cs", "ro", "hu",
    "el", "tr", "ru", "uk", "ar", "he", "hi", "ja", "zh", "ko", "th", "vi", "id",
]
UNDETERMINED = "und"
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import _load_identifier

    return _load_identifier(norm_probs=True, langs=MARKETPLACE_LANGUAGES)


def detect_language(text: str | None) -> str:
    """ISO 639-1 code of `text`, or "und" when it has no letters to go on (emoji, digits)."""
    if not text or not _LETTER.search(text):
        return UNDETERMINED
    # Japanese mixes kana into Han text; any kana settles it, Han alone is Chinese.
    if _KANA.search(text):
        return "ja"
    lang, _ = _identifier().classify(text)
    if lang == "ja" and not _KANA.search(text) and _HAN.search(text):
        return "zh"
    return lang
