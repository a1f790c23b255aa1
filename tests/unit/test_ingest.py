import json
from datetime import datetime

import polars as pl
import pytest

from conftest import write_xlsx
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
        read_reviews(tmp_path / "r.docx")
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


def test_excel_export_reads_its_reviews_sheet_as_text_cells(tmp_path):
    path = write_xlsx(tmp_path / "export.xlsx", {
        "Summary": [["Report", "Rows"], ["feedback", 3]],  # a cover sheet comes first
        "Feedback": [["Order ID", "Rating", "Review Content", "Date", "Product ID"],
                     [8123456789012, 1, "Arrived broken", datetime(2026, 5, 1), "SKU-1"],
                     [42, 5, "Tolles Produkt", "2026-05-02", 77],
                     ["A-1", "4/5", None, None, "SKU-2"]],
    })
    batch = read_reviews(path)
    assert batch.text_column == "Review Content"
    assert batch.frame["_text"].to_list() == ["Arrived broken", "Tolles Produkt"]
    assert batch.frame["_rating"].to_list() == [1.0, 5.0]
    assert batch.frame["_date"].to_list() == [datetime(2026, 5, 1), datetime(2026, 5, 2)]
    # numbers as the sheet shows them, not as floats ("77", never "77.0")
    assert batch.frame["_product_id"].to_list() == ["SKU-1", "77"]
    assert batch.rejects.height == 1  # the row without text, with its reason, as in a CSV


def test_excel_without_a_text_column_or_unreadable_is_a_one_line_error(tmp_path):
    no_text = write_xlsx(tmp_path / "stars.xlsx", {"Sheet1": [["id", "stars"], [1, 5]]})
    with pytest.raises(IngestError, match="no review text column found among: id, stars"):
        read_reviews(no_text)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(IngestError, match="not a readable Excel workbook"):
        read_reviews(broken)


def test_an_excel_workbook_renamed_csv_is_told_to_be_named_xlsx(tmp_path):
    path = write_xlsx(tmp_path / "book.xlsx", {"S": [["text"], ["ok"]]})
    renamed = tmp_path / "reviews.csv"
    renamed.write_bytes(path.read_bytes())
    with pytest.raises(IngestError, match=r"name it \.xlsx"):
        read_reviews(renamed)


def test_excel_file_scores_to_the_same_rows_as_its_csv(tmp_path, fake_analyzer):
    from monitor.batch import score_to_file

    rows = [["id", "text", "stars"]] + [[i, f"review {i} " + ("broken" if i % 3 else "great"),
                                         1 + i % 5] for i in range(50)]
    xlsx = write_xlsx(tmp_path / "r.xlsx", {"Reviews": rows})
    csv = tmp_path / "r.csv"
    csv.write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n")
    for src in (xlsx, csv):
        score_to_file([src], fake_analyzer, tmp_path / f"{src.suffix[1:]}.out.csv",
                      chunk_rows=16, progress=False)
    from_xlsx = pl.read_csv(tmp_path / "xlsx.out.csv", infer_schema=False)
    from_csv = pl.read_csv(tmp_path / "csv.out.csv", infer_schema=False)
    assert from_xlsx.height == 50
    assert from_xlsx.equals(from_csv)


def test_glob_patterns_expand_in_order_and_never_to_the_output(tmp_path):
    from monitor.ingest import expand_inputs

    (tmp_path / "2026" / "05").mkdir(parents=True)
    for name in ("b.csv", "a.csv", "2026/05/c.csv", "notes.md", "odd[1].csv"):
        (tmp_path / name).write_text("id,text\n1,x\n")
    out = tmp_path / "scored.csv"
    out.write_text("id,text\n")
    found = expand_inputs([str(tmp_path / "*.csv")], exclude=[out])
    assert [p.name for p in found] == ["a.csv", "b.csv", "odd[1].csv"]
    assert [p.name for p in expand_inputs([str(tmp_path / "**" / "c.csv")])] == ["c.csv"]
    # a file whose name only looks like a pattern is taken as it is; repeats are dropped
    literal = tmp_path / "odd[1].csv"
    assert expand_inputs([literal, str(tmp_path / "a.csv"), tmp_path / "a.csv"]) == [
        literal, tmp_path / "a.csv"]
    with pytest.raises(IngestError, match="no files match"):
        expand_inputs([str(tmp_path / "*.jsonl")])
