import json
from datetime import datetime

import polars as pl
import pytest

from monitor.ingest import (IngestError, find_column, parse_date, parse_rating, read_reviews,
                            review_key, TEXT_ALIASES)

ROWS = [("1", "P1", "Great kettle, works well", "5", "2026-01-02"),
        ("2", "P1", "Arrived broken", "1", "2026-01-03")]


def write_csv(path, rows=ROWS, header=("id", "asin", "review_body", "stars", "date"),
              encoding="utf-8", sep=","):
    lines = [sep.join(header)] + [sep.join(f'"{c}"' for c in r) for r in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_finds_text_and_optional_columns_by_alias(tmp_path):
    batch = read_reviews(write_csv(tmp_path / "r.csv"))
    assert batch.text_column == "review_body"
    assert batch.columns["review_id"] == "id"
    assert batch.columns["product_id"] == "asin"
    assert batch.columns["rating"] == "stars"
    assert batch.frame["_rating"].to_list() == [5.0, 1.0]
    assert batch.frame["_date"][0] == datetime(2026, 1, 2)
    assert batch.input_columns == ["id", "asin", "review_body", "stars", "date"]


@pytest.mark.parametrize("name", ["评论", "レビュー", "Review Text", "CONTENT", "comment"])
def test_text_column_names_in_many_languages(name):
    assert find_column(["x", name, "y"], TEXT_ALIASES) == name


@pytest.mark.parametrize("encoding,text", [
    ("utf-8-sig", "Très déçu, cassé"), ("gb18030", "商品破损了，很失望，包装也坏了"),
    ("shift_jis", "商品が壊れていました。残念です。"), ("cp1252", "Très déçu, l'article était cassé à l'arrivée"),
])
def test_legacy_encodings_are_detected(tmp_path, encoding, text):
    path = write_csv(tmp_path / "r.csv", rows=[("1", "P", text, "1", "2026-01-01")] * 3,
                     encoding=encoding)
    batch = read_reviews(path)
    assert batch.frame["_text"][0] == text


def test_nested_json_fields_are_found_by_their_last_part(tmp_path):
    recs = [{"review": {"body": "Llegó roto", "rating": 1}, "product": {"asin": "B01"}},
            {"review": {"body": None, "rating": 5}}]
    (tmp_path / "n.jsonl").write_text("\n".join(json.dumps(r) for r in recs))
    batch = read_reviews(tmp_path / "n.jsonl")
    assert batch.text_column == "review.body"
    assert batch.columns["rating"] == "review.rating" and batch.columns["product_id"] == "product.asin"
    assert batch.frame.height == 1 and batch.rejects.height == 1


def test_text_column_override_and_missing_column(tmp_path):
    path = write_csv(tmp_path / "r.csv", header=("id", "asin", "words", "stars", "date"))
    with pytest.raises(IngestError, match="no review text column.*--text-column"):
        read_reviews(path)
    assert read_reviews(path, text_column="words").text_column == "words"
    with pytest.raises(IngestError, match="'nope' not found"):
        read_reviews(path, text_column="nope")


def test_jsonl_json_tsv_parquet(tmp_path):
    recs = [{"review_id": "a", "text": "fine", "meta": {"asin": "P9"}}, {"review_id": "b", "text": "bad"}]
    (tmp_path / "r.jsonl").write_text("\n".join(json.dumps(r) for r in recs))
    (tmp_path / "r.json").write_text(json.dumps({"reviews": recs}))
    assert read_reviews(tmp_path / "r.jsonl").frame.height == 2
    assert "meta.asin" in read_reviews(tmp_path / "r.json").input_columns
    write_csv(tmp_path / "r.tsv", sep="\t")
    assert read_reviews(tmp_path / "r.tsv").frame.height == 2
    pl.DataFrame({"content": ["a", "b"], "rating": [1, 5]}).write_parquet(tmp_path / "r.parquet")
    assert read_reviews(tmp_path / "r.parquet").frame["_rating"].to_list() == [1.0, 5.0]


def test_empty_texts_are_rejected_with_reason(tmp_path):
    path = write_csv(tmp_path / "r.csv", rows=ROWS + [("3", "P1", "   ", "3", "2026-01-04"),
                                                      ("4", "P1", "", "3", "")])
    batch = read_reviews(path)
    assert batch.frame.height == 2
    assert batch.rejects.height == 2
    assert set(batch.rejects["_reason"]) == {"empty review text"}


@pytest.mark.parametrize("content,message", [
    (b"", "empty"), (b"id,text\n", "no review rows"), (b"%PDF-1.7 binary", "PDF or Excel"),
    (b"PK\x03\x04xlsx", "PDF or Excel"), (b"\x00\x01\x02\x03garbage", "binary data"),
])
def test_bad_files_give_fix_it_messages(tmp_path, content, message):
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    with pytest.raises(IngestError, match=message):
        read_reviews(path)


def test_unsupported_and_missing_files(tmp_path):
    with pytest.raises(IngestError, match="unsupported file type"):
        read_reviews(tmp_path / "r.xlsx")
    with pytest.raises(IngestError, match="not found"):
        read_reviews(tmp_path / "nope.csv")


@pytest.mark.parametrize("value,expected", [
    (4, 4.0), ("4", 4.0), ("4.0", 4.0), ("4,0", 4.0), ("4/5", 4.0), ("8/10", 4.0),
    ("★★★★☆", 4.0), ("3 stars", 3.0), ("", None), ("n/a", None), (None, None), (7, None),
])
def test_parse_rating(value, expected):
    assert parse_rating(value) == expected


@pytest.mark.parametrize("value,expected", [
    ("2026-03-01", datetime(2026, 3, 1)),
    ("2026-03-01T10:00:00+02:00", datetime(2026, 3, 1, 8, 0)),
    ("2026-03-01T10:00:00Z", datetime(2026, 3, 1, 10, 0)),
    ("01.03.2026", datetime(2026, 3, 1)),
    ("2026年3月1日", datetime(2026, 3, 1)),
    ("March 1, 2026", datetime(2026, 3, 1)),
    (1772323200, datetime(2026, 3, 1)),
    ("garbage", None), ("", None),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


def test_review_key_is_stable_and_prefers_id():
    assert review_key("R1", "P", "text", "d") == review_key("R1", "Q", "other", None)
    assert review_key(None, "P", "text", "d") == review_key("", "P", " text ", "d")
    assert review_key(None, "P", "text", "d") != review_key(None, "P", "text", "e")
    assert len(review_key(None, None, "x", None)) == 32


@pytest.mark.parametrize("value,code", [
    ("en", "en"), ("en-US", "en"), ("zh_CN", "zh"), ("English", "en"), ("German", "de"),
    ("Chinese", "zh"), ("日本語", "ja"), ("", None), ("xx-lang-unknown", "xx"), ("Klingon", None),
])
def test_normalize_language(value, code):
    from monitor.ingest import normalize_language

    assert normalize_language(value) == code


def test_ids_too_long_for_the_store_are_rejected_with_a_reason():
    from monitor.ingest import reviews_from_records

    batch = reviews_from_records([{"id": "x" * 201, "text": "fine"}, {"id": "ok", "text": "fine"},
                                  {"id": "m", "text": "fine", "marketplace": "m" * 101}], "api")
    assert batch.frame["_review_id"].to_list() == ["ok"]
    assert sorted(batch.rejects["_reason"].to_list()) == [
        "marketplace longer than 100 characters", "review_id longer than 200 characters"]


def test_records_with_mixed_field_types_are_read_as_text():
    from monitor.ingest import reviews_from_records

    batch = reviews_from_records([{"id": 12345, "product_id": 42, "text": "fine", "stars": 4},
                                  {"id": "r-2", "product_id": "P-7", "text": "ok", "stars": "3/5"},
                                  {"id": 10 ** 30, "text": "big id", "stars": 5.0}], "api")
    assert batch.frame["_review_id"].to_list() == ["12345", "r-2", str(10 ** 30)]
    assert batch.frame["_product_id"].to_list() == ["42", "P-7", None]
    assert batch.frame["_rating"].to_list() == [4.0, 3.0, 5.0]


def test_numbers_that_are_not_dates_give_no_date():
    from monitor.ingest import parse_date

    assert parse_date(1767225600) == datetime(2026, 1, 1)
    assert parse_date(1767225600000) == datetime(2026, 1, 1)  # milliseconds
    for junk in (1e300, 5.1e16, -2.1e16, 0, float("inf"), float("nan")):
        assert parse_date(junk) is None
