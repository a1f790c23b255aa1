from datetime import datetime, timedelta

import numpy as np
import polars as pl

from monitor.themes import THEME_SCHEMA, ThemeReport, cluster, themes


def blobs(seed=0):
    rng = np.random.default_rng(seed)
    centres = np.eye(384)[:3]
    pts = np.concatenate([c + 0.05 * rng.normal(size=(n, 384)) for c, n in zip(centres, (8, 5, 3))])
    return pts / np.linalg.norm(pts, axis=1, keepdims=True)


def frame(n):
    base = datetime(2026, 3, 1)
    return pl.DataFrame({
        "text": [f"review {i}" for i in range(n)],
        "evidence": ["broken lid" if i < 8 else "" for i in range(n)],
        "category": ["damage" if i < 8 else ("delay" if i < 13 else "other") for i in range(n)],
        "date": [base + timedelta(days=i) for i in range(n)],
    })


def test_clusters_follow_meaning():
    labels = cluster(blobs())
    assert len(set(labels[:8])) == 1 and len(set(labels[8:13])) == 1 and len(set(labels)) == 3


def test_themes_are_ranked_labelled_and_split_in_time():
    t = themes(frame(16), blobs())
    assert t.schema == pl.Schema(THEME_SCHEMA)
    assert t["reviews"].to_list() == [8, 5, 3]
    first = t.row(0, named=True)
    assert first["label"] == "broken lid" and first["top_category"] == "damage"
    assert first["first_half"] + first["second_half"] == 8 and len(first["examples"]) == 3


def test_tiny_or_empty_sets():
    assert themes(frame(0), np.zeros((0, 384))).is_empty()
    assert themes(frame(3), blobs()[:3])["reviews"].to_list() == [3]


def test_report_markdown_keeps_review_text_inert():
    t = themes(frame(16), blobs())
    t = t.with_columns(pl.lit("<script>x</script> [a](http://e)").alias("label"))
    md = ThemeReport("P1", datetime(2026, 3, 1), datetime(2026, 3, 16), 16, t).markdown()
    assert md.startswith("# Improvement report: P1") and "2026-03-01 to 2026-03-16" in md
    assert "<script>" not in md and "](http" not in md
    assert "What we changed" in md


def test_report_html_is_one_escaped_printable_page():
    import pytest

    from monitor.themes import report_format

    t = themes(frame(16), blobs())
    t = t.with_columns(pl.lit("<script>alert(1)</script> 壊れた & broken").alias("label"),
                       pl.col("examples").list.eval(pl.lit("<img src=x onerror=1>")))
    page = ThemeReport("P<1>", datetime(2026, 3, 1), datetime(2026, 3, 16), 16, t).html()
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "<script>" not in page and "<img" not in page and "P<1>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 壊れた &amp; broken" in page
    assert page.count("<section>") == t.height and page.count("<blockquote dir=\"auto\">") == 3 * t.height
    assert "2026-03-01 to 2026-03-16" in page and 'contenteditable="true"' in page
    assert "@media print" in page and "http" not in page  # nothing fetched from elsewhere
    assert [report_format(n) for n in ("r.md", "R.HTML", "r.htm")] == ["markdown", "html", "html"]
    with pytest.raises(ValueError, match=r"\.md \(Markdown\) or \.html"):
        report_format("report.pdf")


def aspects_frame():
    from monitor.themes import ASPECT_SUMMARY_SCHEMA

    return pl.DataFrame([{"aspect": "damage", "name": "damaged on arrival", "reviews": 8,
                          "first_half": 3, "second_half": 5, "examples": ["lid broken"]}],
                        schema=ASPECT_SUMMARY_SCHEMA)


def report(**given):
    t = themes(frame(16), blobs()).with_columns(pl.lit("壊れた lid | broken").alias("label"))
    return ThemeReport("P1", datetime(2026, 3, 1), datetime(2026, 3, 16), 16, t, aspects_frame(),
                       **given)


def test_report_follows_the_ui_language(monkeypatch):
    monkeypatch.delenv("MONITOR_TEAM_TZ", raising=False)
    monkeypatch.setenv("MONITOR_UI_LANG", "zh")
    rep = report()
    for text in (rep.markdown(), rep.html(), rep.render("html"), rep.render("markdown")):
        assert "改进报告：P1" in text and "16 条差评（2026年3月1日 至 2026年3月16日）" in text
        assert "买家投诉的方面" in text and "到货破损" in text and "按含义归类的主题" in text
        assert "主题 1：壊れた lid" in text and "买家原话：" in text and "我们的改进：" in text
        assert "商品破损" in text and "主要类别" in text  # the main category, in Chinese
        for english in ("Improvement report", "What buyers wrote", "What we changed", "Theme ",
                        "negative reviews", "main category", "damaged on arrival"):
            assert english not in text, english
    assert "lid broken" in rep.markdown()  # buyers' words stay as written
    monkeypatch.setenv("MONITOR_UI_LANG", "en")
    md = rep.markdown()
    assert md.startswith("# Improvement report: P1") and "| damage |" in md
    assert "What buyers wrote:" in md and "改进报告" not in md
    assert rep.markdown(lang="zh").startswith("# 改进报告：P1")  # the dashboard's own choice


def test_report_shows_when_it_was_made_on_the_teams_clock(monkeypatch):
    monkeypatch.delenv("MONITOR_UI_LANG", raising=False)
    monkeypatch.delenv("MONITOR_TEAM_TZ", raising=False)
    rep = report(generated_at=datetime(2026, 3, 16, 18, 30))
    assert "Generated 2026-03-16 18:30 UTC" in rep.markdown()
    monkeypatch.setenv("MONITOR_TEAM_TZ", "Asia/Shanghai")
    assert "Generated 2026-03-17 02:30 UTC+08:00" in rep.markdown()
    assert "Generated 2026-03-17 02:30 UTC+08:00" in rep.html()
    monkeypatch.setenv("MONITOR_UI_LANG", "zh")
    assert "生成于 2026年3月17日 02:30（UTC+8）" in rep.markdown()
    # the review period is the buyers' days, never shifted by the team's zone
    assert "2026年3月1日 至 2026年3月16日" in rep.markdown()
    assert "Generated" not in report().markdown(lang="en")  # no time given, none shown
