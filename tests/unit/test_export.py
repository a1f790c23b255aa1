import polars as pl

from monitor.export import neutralize_formulas, to_csv_bytes


def test_formulas_are_neutralised_and_numbers_kept():
    df = pl.DataFrame({
        "text": ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3",
                 "\t=1", "fine", None],
        "rating": ["-3", "+4.5", "4", "=1", "5", "3", None],
        "n": [1, 2, 3, 4, 5, 6, 7],
    })
    out = neutralize_formulas(df)
    assert out["text"].to_list() == ["'=HYPERLINK(\"http://x\",\"y\")", "'+cmd|' /C calc'!A0",
                                     "'@SUM(1+1)", "'-2+3", "'\t=1", "fine", None]
    assert out["rating"].to_list() == ["-3", "+4.5", "4", "'=1", "5", "3", None]
    assert out["n"].to_list() == df["n"].to_list()


def test_csv_bytes_have_bom_and_safe_cells():
    data = to_csv_bytes(pl.DataFrame({"text": ["=1+1", "日本語"]}))
    assert data.startswith(b"\xef\xbb\xbf")
    assert "'=1+1" in data.decode("utf-8-sig") and "日本語" in data.decode("utf-8-sig")


# --- the queue export: for the team, in its language and on its clock -------------------------

def queue_row(**given):
    from datetime import datetime

    from monitor.schema import QUEUE_SCHEMA

    row = {name: None for name in QUEUE_SCHEMA}
    row.update(review_key="k1", review_id="r1", product_id="P1", text="Arrived broken.",
               lang="en", sentiment="negative", category="damage", severity=2,
               evidence="broken", needs_response=True, aspects=["damage"], case_id=7,
               case_state="new", date=datetime(2026, 3, 2), due_at=datetime(2026, 3, 2, 20, 0),
               evidence_checklist="", **given)
    return pl.DataFrame([row], schema=QUEUE_SCHEMA)


# what scripts read today: the English headers are the column names, unchanged
ENGLISH_HEADERS = [
    "review_key", "review_id", "product_id", "marketplace", "channel", "date", "rating", "title",
    "text", "lang", "sentiment", "p_negative", "p_neutral", "p_positive", "stars_pred",
    "confidence", "category", "severity", "evidence", "needs_response", "aspects", "case_id",
    "case_state", "due_at", "assignee", "co_owner", "escalation", "evidence_checklist", "tier",
    "customer_id", "order_id", "reply_draft", "checklist"]


def test_queue_export_headers_follow_the_ui_language(monkeypatch):
    from monitor.export import queue_export

    monkeypatch.delenv("MONITOR_TEAM_TZ", raising=False)
    monkeypatch.delenv("MONITOR_UI_LANG", raising=False)
    english = queue_export(queue_row(), contact="help@shop.example")
    assert english.columns == ENGLISH_HEADERS
    monkeypatch.setenv("MONITOR_UI_LANG", "zh")
    chinese = queue_export(queue_row(), contact="help@shop.example")
    assert chinese.columns[:3] == ["评价键", "评价编号", "产品编号"]
    assert {"回复截止时间", "回复草稿", "检查清单", "工单号"} <= set(chinese.columns)
    assert not set(chinese.columns) & set(ENGLISH_HEADERS)  # every header in Chinese
    # only the headers: the buyer's words and the reply in the buyer's language stay as written
    assert chinese.row(0) == english.row(0)
    assert queue_export(queue_row(), contact="x", lang="en").columns == ENGLISH_HEADERS
    data = to_csv_bytes(chinese).decode("utf-8-sig")
    assert data.startswith("评价键,评价编号,产品编号") and "Arrived broken." in data


def test_queue_export_deadlines_are_on_the_teams_clock(monkeypatch):
    from zoneinfo import ZoneInfo

    from monitor.export import queue_export

    monkeypatch.delenv("MONITOR_UI_LANG", raising=False)
    monkeypatch.delenv("MONITOR_TEAM_TZ", raising=False)
    utc = to_csv_bytes(queue_export(queue_row(), contact="x")).decode("utf-8-sig")
    assert "2026-03-02T20:00:00+00:00" in utc
    monkeypatch.setenv("MONITOR_TEAM_TZ", "Asia/Shanghai")
    frame = queue_export(queue_row(), contact="x")
    assert frame.schema["due_at"].time_zone == "Asia/Shanghai"
    data = to_csv_bytes(frame).decode("utf-8-sig")
    assert "2026-03-03T04:00:00+08:00" in data  # the same deadline, as the team reads it
    assert "2026-03-02T00:00:00+00:00" in data  # the review's date stays the day given
    tokyo = queue_export(queue_row(), contact="x", tz=ZoneInfo("Asia/Tokyo"))
    assert tokyo.schema["due_at"].time_zone == "Asia/Tokyo"
