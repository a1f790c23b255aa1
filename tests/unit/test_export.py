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
