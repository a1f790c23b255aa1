"""Improvement themes: group a product's negative reviews by meaning, for an improvement report.

Reviews are clustered on their e5 embeddings (k-means, k chosen by silhouette among a few sizes),
so the same complaint written in German, Japanese or English lands in the same theme. Each theme
is labelled by its most central reviews (their evidence span when they have one), which works in
any language without a word list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from .errors import InputError

THEME_SCHEMA = {"theme": pl.Int32, "label": pl.String, "reviews": pl.UInt32,
                "first_half": pl.UInt32, "second_half": pl.UInt32, "top_category": pl.String,
                "examples": pl.List(pl.String)}


ASPECT_SUMMARY_SCHEMA = {"aspect": pl.String, "name": pl.String, "reviews": pl.UInt32,
                         "first_half": pl.UInt32, "second_half": pl.UInt32,
                         "examples": pl.List(pl.String)}


# catalog context of the report's short words (column headers), kept apart from the pages'
REPORT_CONTEXT = "improvement report"


@dataclass(frozen=True)
class ThemeReport:
    product: str
    start: datetime | None
    end: datetime | None
    negatives: int
    themes: pl.DataFrame  # THEME_SCHEMA
    aspects: pl.DataFrame = field(  # ASPECT_SUMMARY_SCHEMA: what to fix, most raised first
        default_factory=lambda: pl.DataFrame(schema=ASPECT_SUMMARY_SCHEMA))
    generated_at: datetime | None = None  # stored UTC; shown in the team's zone

    def _words(self, lang: str | None, tz: ZoneInfo | None) -> "_ReportWords":
        from .clock import team_timezone
        from .i18n import ui_language

        return _ReportWords(lang or ui_language(), tz or team_timezone())

    def markdown(self, lang: str | None = None, tz: ZoneInfo | None = None) -> str:
        """A shareable improvement report (Markdown; review text quoted as plain text), in the
        team's language (`lang`, default MONITOR_UI_LANG) with its generation time in the
        team's zone (`tz`, default MONITOR_TEAM_TZ). Review text stays as written."""
        w = self._words(lang, tz)
        lines = [f"# {w.title(self.product)}", "", w.summary(self), ""]
        if self.generated_at is not None:
            lines += [w.generated(self.generated_at), ""]
        filled = f"{w('What we changed:')} _{w('(fill in before sharing)')}_"
        if self.aspects.height:
            lines += [f"## {w('What buyers complain about')}", "",
                      f"| {w('aspect', REPORT_CONTEXT)} | {w('reviews', REPORT_CONTEXT)} | "
                      f"{w('first half → second half', REPORT_CONTEXT)} |", "|---|---|---|"]
            lines += [f"| {w(a['name'])} | {a['reviews']} | {a['first_half']} → "
                      f"{a['second_half']} |" for a in self.aspects.iter_rows(named=True)]
            for a in self.aspects.iter_rows(named=True):
                lines += ["", f"### {w(a['name'])}", "", w("What buyers wrote:")]
                lines += [f"> {_md_cell(e)}" for e in a["examples"]]
                lines += ["", filled]
            lines += ["", f"## {w('Themes by meaning')}", ""]
        lines += [f"| # | {w('theme', REPORT_CONTEXT)} | {w('reviews', REPORT_CONTEXT)} | "
                  f"{w('first half → second half', REPORT_CONTEXT)} | "
                  f"{w('main category', REPORT_CONTEXT)} |", "|---|---|---|---|---|"]
        for t in self.themes.iter_rows(named=True):
            label = _md_cell(t["label"])
            lines.append(f"| {t['theme']} | {label} | {t['reviews']} | {t['first_half']} → "
                         f"{t['second_half']} | {w.category(t['top_category'])} |")
        for t in self.themes.iter_rows(named=True):
            lines += ["", f"## {w.theme(t['theme'], _md_cell(t['label']))}", "",
                      w("What buyers wrote:")]
            lines += [f"> {_md_cell(e)}" for e in t["examples"]]
            lines += ["", filled]
        return "\n".join(lines) + "\n"

    def html(self, lang: str | None = None, tz: ZoneInfo | None = None) -> str:
        """The same report as one self-contained HTML page: opens in any browser, prints to PDF
        (every script the browser can show, CJK included), and the "What we changed" lines can
        be typed into before printing. Review text is escaped, never markup."""
        from html import escape

        w = self._words(lang, tz)
        changed = (f'<p><b>{escape(w("What we changed:"))}</b> <span class="fill" '
                   f'contenteditable="true">'
                   f'{escape(w("(click to write this before printing or sharing)"))}</span></p>')
        wrote = f"<p>{escape(w('What buyers wrote:'))}</p>"
        rows = "".join(
            f"<tr><td>{t['theme']}</td><td>{escape(t['label'] or '')}</td><td>{t['reviews']}</td>"
            f"<td>{t['first_half']} → {t['second_half']}</td>"
            f"<td>{escape(w.category(t['top_category']))}</td></tr>"
            for t in self.themes.iter_rows(named=True))
        sections = "".join(
            f"<section><h2>{escape(w.theme(t['theme'], t['label'] or ''))}</h2>{wrote}"
            # dir="auto": an Arabic or Hebrew quote reads right to left among the others
            + "".join(f'<blockquote dir="auto">{escape(e)}</blockquote>' for e in t["examples"])
            + changed + "</section>"
            for t in self.themes.iter_rows(named=True))
        halves = escape(w("first half → second half", REPORT_CONTEXT))
        if self.aspects.height:
            aspect_rows = "".join(
                f"<tr><td>{escape(w(a['name']))}</td><td>{a['reviews']}</td>"
                f"<td>{a['first_half']} → {a['second_half']}</td></tr>"
                for a in self.aspects.iter_rows(named=True))
            aspect_sections = "".join(
                f"<section><h3>{escape(w(a['name']))}</h3>{wrote}"
                + "".join(f'<blockquote dir="auto">{escape(e)}</blockquote>'
                          for e in a["examples"])
                + changed + "</section>"
                for a in self.aspects.iter_rows(named=True))
            sections = (f"<h2>{escape(w('What buyers complain about'))}</h2><table><thead><tr>"
                        f"<th>{escape(w('aspect', REPORT_CONTEXT))}</th>"
                        f"<th>{escape(w('reviews', REPORT_CONTEXT))}</th><th>{halves}</th>"
                        f"</tr></thead><tbody>{aspect_rows}</tbody></table>{aspect_sections}"
                        f"<h2>{escape(w('Themes by meaning'))}</h2>" + sections)
        title = escape(w.title(self.product))
        generated = (f"<p>{escape(w.generated(self.generated_at))}</p>"
                     if self.generated_at is not None else "")
        return (
            # no lang on the page: the quotes are in the buyers' languages (a Japanese quote
            # must not take Chinese glyphs)
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
            f"<title>{title}</title><style>{_REPORT_CSS}</style></head><body>"
            f"<h1>{title}</h1><p>{escape(w.summary(self))}</p>{generated}"
            f"<table><thead><tr><th>#</th><th>{escape(w('theme', REPORT_CONTEXT))}</th>"
            f"<th>{escape(w('reviews', REPORT_CONTEXT))}</th><th>{halves}</th>"
            f"<th>{escape(w('main category', REPORT_CONTEXT))}</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>{sections}</body></html>\n")

    def render(self, fmt: str, lang: str | None = None, tz: ZoneInfo | None = None) -> str:
        """The report as `fmt`: "markdown" or "html"."""
        return self.html(lang, tz) if fmt == "html" else self.markdown(lang, tz)


@dataclass(frozen=True)
class _ReportWords:
    """The report's texts in one language (monitor/locale catalogs), times in one zone."""

    lang: str
    tz: ZoneInfo

    def __call__(self, text: str, context: str | None = None) -> str:
        from .i18n import translate

        return translate(text, self.lang, context)

    def title(self, product: str) -> str:
        return self("Improvement report: {product}").format(product=product)

    def summary(self, report: ThemeReport) -> str:
        from .clock import format_date

        # review dates are the days buyers wrote: shown as given, never shifted
        period = (self("{start} to {end}").format(start=format_date(report.start, lang=self.lang),
                                                  end=format_date(report.end, lang=self.lang))
                  if report.start and report.end else self("all dates"))
        return self("{negatives} negative reviews, {period}, grouped into {themes} themes by "
                    "meaning (any language).").format(negatives=report.negatives, period=period,
                                                      themes=report.themes.height)

    def generated(self, when: datetime) -> str:
        from .clock import format_time

        return self("Generated {time}").format(time=format_time(when, lang=self.lang,
                                                                tz=self.tz))

    def theme(self, number: int, label: str) -> str:
        return self("Theme {number}: {label}").format(number=number, label=label)

    def category(self, category: str | None) -> str:
        from .i18n import category_name

        return category_name(category, self.lang)


REPORT_FORMATS = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}
_REPORT_CSS = (
    "body{font-family:system-ui,'Noto Sans','Noto Sans CJK JP','Noto Sans CJK SC',sans-serif;"
    "max-width:52rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.45}"
    "table{border-collapse:collapse;width:100%}th,td{border:1px solid #bbb;padding:.3rem .5rem;"
    "text-align:left;vertical-align:top}blockquote{margin:.4rem 0;padding:.2rem .8rem;"
    "border-left:3px solid #999;white-space:pre-wrap;overflow-wrap:anywhere}"
    ".fill{color:#555;border-bottom:1px dashed #999}section{break-inside:avoid}"
    "@media print{body{margin:0}.fill{border:none}}")


def report_format(path) -> str:
    """The report format an output file's extension asks for; ValueError names the choices."""
    from pathlib import Path

    fmt = REPORT_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError(f"cannot write a report to '{path}': end the file name in .md (Markdown) "
                         "or .html (a page that prints to PDF)")
    return fmt


def _md_cell(text: str) -> str:
    # review text must not become Markdown or HTML in the report
    out = (text or "").replace("\n", " ").replace("|", "\\|")
    for ch in "<>[]`*_#":
        out = out.replace(ch, f"&#{ord(ch)};")
    return out[:160]


def cluster(embeddings: np.ndarray, *, max_k: int = 6, seed: int = 13) -> np.ndarray:
    """Cluster labels for unit-vector embeddings; k picked by silhouette (1 for tiny sets)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    n = len(embeddings)
    if n < 6:
        return np.zeros(n, dtype=int)
    best_labels, best_score = np.zeros(n, dtype=int), -1.0
    for k in range(2, min(max_k, n // 3) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(embeddings)
        score = silhouette_score(embeddings, labels, metric="cosine")
        if score > best_score:
            best_labels, best_score = labels, score
    return best_labels


def themes(reviews: pl.DataFrame, embeddings: np.ndarray, *, examples: int = 3) -> pl.DataFrame:
    """Themes of `reviews` (columns text, evidence, category, date) given their embeddings."""
    if reviews.is_empty():
        return pl.DataFrame(schema=THEME_SCHEMA)
    labels = cluster(embeddings)
    dates = reviews["date"].to_list()
    dated = [d for d in dates if d is not None]
    middle = min(dated) + (max(dated) - min(dated)) / 2 if dated else None
    rows = []
    for lab in np.unique(labels):
        idx = np.where(labels == lab)[0]
        centre = embeddings[idx].mean(axis=0)
        ranked = idx[np.argsort(-(embeddings[idx] @ centre))]
        texts = [reviews["evidence"][int(i)] or reviews["text"][int(i)] for i in ranked]
        cats = reviews["category"].gather(idx.tolist()).value_counts(sort=True)
        first = sum(1 for i in idx if middle and dates[i] is not None and dates[i] <= middle)
        second = sum(1 for i in idx if middle and dates[i] is not None and dates[i] > middle)
        rows.append({"label": texts[0][:120], "reviews": len(idx), "first_half": first,
                     "second_half": second, "top_category": cats["category"][0],
                     "examples": [t[:300] for t in texts[:examples]]})
    rows.sort(key=lambda r: -r["reviews"])
    for n, r in enumerate(rows, 1):
        r["theme"] = n
    return pl.DataFrame(rows).select(list(THEME_SCHEMA)).cast(THEME_SCHEMA)


def improvement_report(reviews: pl.DataFrame, embed, product: str) -> ThemeReport:
    """Themes of one product's negative reviews (`reviews` = store frame for that product)."""
    neg = reviews.filter(pl.col("sentiment") == "negative").sort("date", nulls_last=True)
    emb = embed(neg["text"].to_list()) if neg.height else np.zeros((0, 384))
    dates = [d for d in neg["date"].to_list() if d is not None]
    return ThemeReport(product, min(dates) if dates else None, max(dates) if dates else None,
                       neg.height, themes(neg, emb), aspect_summary(reviews),
                       generated_at=datetime.now(timezone.utc).replace(tzinfo=None))


def aspect_summary(reviews: pl.DataFrame, *, examples: int = 3) -> pl.DataFrame:
    """Per complaint aspect raised in `reviews` (a store frame with an `aspects` list): how
    many reviews, in the first and second half of their dates, and example quotes."""
    from .aspects import ASPECT_NAMES, ASPECTS

    if reviews.is_empty() or "aspects" not in reviews.columns:
        return pl.DataFrame(schema=ASPECT_SUMMARY_SCHEMA)
    dated = [d for d in reviews["date"].to_list() if d is not None]
    middle = min(dated) + (max(dated) - min(dated)) / 2 if dated else None
    rows = []
    for aspect in ASPECTS:
        hit = reviews.filter(pl.col("aspects").list.contains(aspect)).sort(
            "date", descending=True, nulls_last=True)
        if hit.is_empty():
            continue
        dates = hit["date"].to_list()
        quotes = [(r["evidence"] or r["text"] or "")[:300] for r in hit.head(examples).to_dicts()]
        rows.append({"aspect": aspect, "name": ASPECT_NAMES[aspect], "reviews": hit.height,
                     "first_half": sum(1 for d in dates if middle and d and d <= middle),
                     "second_half": sum(1 for d in dates if middle and d and d > middle),
                     "examples": quotes})
    rows.sort(key=lambda r: -r["reviews"])
    return pl.DataFrame(rows, schema=ASPECT_SUMMARY_SCHEMA) if rows else \
        pl.DataFrame(schema=ASPECT_SUMMARY_SCHEMA)
