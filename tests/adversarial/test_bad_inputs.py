"""Hostile and broken inputs: each gives a correct result or a one-line fix-it error, never a
traceback, and never silently drops rows (unusable rows are counted as rejects)."""

import json
import random

import polars as pl
import pytest

from monitor.batch import public_columns, score_frame
from monitor.ingest import IngestError, read_reviews
from monitor.schema import SCORE_COLUMNS


def scored(path, analyzer):
    batch = read_reviews(path)
    out = public_columns(score_frame(batch, analyzer, progress=False))
    return batch, out


def write(tmp_path, name, data):
    p = tmp_path / name
    (p.write_bytes if isinstance(data, bytes) else p.write_text)(data)
    return p


# --- files that cannot be used: one clear error each -------------------------------------------
@pytest.mark.parametrize("name,data,message", [
    ("empty.csv", b"", "empty"),
    ("blank.csv", b"\n\n  \n", "empty"),
    ("header.csv", b"id,text\n", "no review rows"),
    ("garbage.csv", random.Random(1).randbytes(4000), "binary data|text encoding"),
    ("garbage-no-nul.csv", bytes(b for b in random.Random(2).randbytes(6000) if b),
     "binary data|text encoding"),
    ("renamed.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 fake pdf", "PDF or Excel"),
    ("sheet.csv", b"PK\x03\x04\x14\x00\x06\x00 fake xlsx", "PDF or Excel"),
    ("nocol.csv", b"id,stars\n1,5\n", "no review text column"),
    ("bad.json", b"{not json", "cannot parse as JSON"),
    ("list.json", b"[1, 2, 3]", "must be an object"),
    ("bad.parquet", b"PAR1 not really", "not a readable Parquet file"),
])
def test_unusable_files_fail_with_a_fix_it_message(tmp_path, name, data, message):
    with pytest.raises(IngestError, match=message) as err:
        read_reviews(write(tmp_path, name, data))
    assert "\n" not in str(err.value)


# --- encodings ------------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding,text", [
    ("gbk", "质量太差了，包装也破损了，非常失望"), ("gb18030", "商品破损，客服也不回复，非常失望"),
    ("big5", "商品破損了，非常失望，不會再買"), ("shift_jis", "商品が壊れていました。とても残念です。"),
    ("euc_kr", "상품이 파손되어 도착했습니다. 실망입니다."),
    ("cp1252", "Très déçu, l’article était cassé à l’arrivée"), ("utf-16", "Kaputt angekommen ☹"),
    ("utf-8-sig", "Llegó roto, qué pena"),
])
def test_every_common_encoding_reads_back_the_same_text(tmp_path, fake_analyzer, encoding, text):
    p = write(tmp_path, "r.csv", f'id,text\n1,"{text}"\n2,"{text}"\n'.encode(encoding))
    batch, out = scored(p, fake_analyzer)
    assert out["text"].to_list() == [text, text]


# --- awkward but valid CSV ------------------------------------------------------------------------
def test_mixed_line_endings(tmp_path, fake_analyzer):
    # a bare CR (old Mac exports) ends a row too: no row is folded into the one before it
    p = write(tmp_path, "r.csv", b"id,text\r\n1,one\n2,two\r3,three\r\n")
    batch, out = scored(p, fake_analyzer)
    assert batch.rejects.height == 0
    assert out["text"].to_list() == ["one", "two", "three"]
    assert out["id"].cast(pl.String).to_list() == ["1", "2", "3"]


def test_a_csv_with_a_stray_nul_byte_is_scored_and_says_which_rows(tmp_path, fake_analyzer,
                                                                   caplog):
    p = write(tmp_path, "r.csv", b"id,text\n1,good\x00 one\n2,two\n3,th\x00re\x00e\n")
    with caplog.at_level("WARNING", logger="monitor"):
        batch, out = scored(p, fake_analyzer)
    assert out["text"].to_list() == ["good one", "two", "three"]
    assert "removed 3 NUL byte(s) from 2 row(s)" in caplog.text


def test_unterminated_quote_is_an_error_or_kept_text_never_a_crash(tmp_path, fake_analyzer):
    p = write(tmp_path, "r.csv", 'id,text\n1,"fine"\n2,"never closed\n3,after\n')
    try:
        batch, out = scored(p, fake_analyzer)
    except IngestError as exc:
        assert "\n" not in str(exc)
    else:
        assert out.height >= 1


def test_one_megabyte_review_is_scored_with_truncation(tmp_path, fake_analyzer):
    long = "bad " * 260_000
    p = write(tmp_path, "r.csv", f'id,text\n1,"{long}"\n2,ok\n')
    batch, out = scored(p, fake_analyzer)
    assert out.height == 2 and len(out["text"][0]) > 1_000_000


def test_a_line_with_100k_columns(tmp_path, fake_analyzer):
    header = "text," + ",".join(f"c{i}" for i in range(100_000))
    row = "bad thing," + ",".join("x" for _ in range(100_000))
    batch, out = scored(write(tmp_path, "wide.csv", header + "\n" + row + "\n"), fake_analyzer)
    assert out.height == 1 and out.width == 100_001 + len(SCORE_COLUMNS)


def test_nul_bytes_inside_text_are_dropped_not_fatal(tmp_path, fake_analyzer):
    data = b"id,text\n" + b"1,bad\x00 thing\n" * 2 + b"2,fine\n" * 400
    batch, out = scored(write(tmp_path, "r.csv", data), fake_analyzer)
    assert "bad thing" in out["text"].to_list()


def test_null_and_whitespace_texts_are_counted_rejects(tmp_path, fake_analyzer):
    p = write(tmp_path, "r.jsonl", "\n".join(json.dumps(r) for r in [
        {"text": None}, {"text": "   "}, {"text": "\t\n"}, {"text": "bad"}, {}]))
    batch, out = scored(p, fake_analyzer)
    assert out.height == 1 and batch.rejects.height == 4


@pytest.mark.parametrize("text", [
    "😡😡😡", "المنتج مكسور وسيء جدا", "המוצר הגיע שבור", "<script>alert(1)</script>",
    "[click here](http://evil.invalid)", "=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0",
    "@SUM(1+1)", "Xqzv blorft wibble", "ok" * 3,
])
def test_hostile_or_odd_texts_pass_through_unchanged(tmp_path, fake_analyzer, text):
    p = write(tmp_path, "r.jsonl", json.dumps({"id": 1, "text": text}))
    batch, out = scored(p, fake_analyzer)
    assert out["text"].to_list() == [text]


@pytest.mark.parametrize("date", ["2026-03-01", "01.03.2026", "2026/03/01", "March 1, 2026",
                                  "2026-03-01T23:30:00-05:00", "1772323200", "2026年3月1日", "soon"])
def test_dates_in_many_formats_never_break_a_row(tmp_path, fake_analyzer, date):
    p = write(tmp_path, "r.jsonl", json.dumps({"text": "bad", "date": date}))
    batch, out = scored(p, fake_analyzer)
    assert out.height == 1
    assert (batch.frame["_date"][0] is None) == (date == "soon")


@pytest.mark.parametrize("rating,stars", [("4/5", 4.0), ("★★★★☆", 4.0), ("4,0", 4.0), ("4.0", 4.0),
                                          ("five", None), ("", None), ("0", None), ("9/10", 4.5)])
def test_ratings_in_many_forms(tmp_path, fake_analyzer, rating, stars):
    p = write(tmp_path, "r.jsonl", json.dumps({"text": "bad", "rating": rating}))
    batch, out = scored(p, fake_analyzer)
    assert batch.frame["_rating"][0] == stars and out["rating"][0] == rating


def test_json_with_nested_fields_and_wrapper(tmp_path, fake_analyzer):
    doc = {"data": [{"review": {"content": "bad", "meta": {"asin": "B1"}}, "tags": ["a", "b"]}]}
    batch, out = scored(write(tmp_path, "r.json", json.dumps(doc)), fake_analyzer)
    assert batch.text_column == "review.content" and out["tags"][0] == '["a", "b"]'


def test_parquet_with_unexpected_types(tmp_path, fake_analyzer):
    pl.DataFrame({"text": ["bad", "good"], "rating": [1.0, 5.0], "date": [1772323200, None],
                  "id": [1, 2], "flag": [True, False]}).write_parquet(tmp_path / "r.parquet")
    batch, out = scored(tmp_path / "r.parquet", fake_analyzer)
    assert out.height == 2 and batch.frame["_review_id"].to_list() == ["1", "2"]
    assert out["flag"].to_list() == [True, False]  # input types kept


def test_columns_that_start_with_an_underscore_do_not_clash(tmp_path, fake_analyzer):
    p = write(tmp_path, "r.csv", "_row,_text,_note,text\nx,y,z,bad\n")
    batch, out = scored(p, fake_analyzer)
    assert out["text"].to_list() == ["bad"]
    assert out["input_row"][0] == "x"
    assert out["input_text"][0] == "y" and out["_note"][0] == "z"


def test_duplicate_column_names_keep_both(tmp_path, fake_analyzer):
    batch, out = scored(write(tmp_path, "r.csv", "text,text\nbad,other\n"), fake_analyzer)
    assert out["text"].to_list() == ["bad"] and "other" in out.row(0)


def test_utf16_without_bom(tmp_path, fake_analyzer):
    p = write(tmp_path, "r.csv", "id,text\n1,Kaputt angekommen\n".encode("utf-16-le"))
    batch, out = scored(p, fake_analyzer)
    assert out["text"].to_list() == ["Kaputt angekommen"]
