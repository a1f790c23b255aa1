"""Big files are streamed chunk by chunk with the same result as reading them whole; memory stays
flat as files grow; repeated reviews are counted and, with --dedup, left out."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import monitor.ingest as ingest
from monitor.batch import Progress, score_to_file

TESTS = Path(__file__).resolve().parents[1]


def write_inputs(d: Path) -> list[Path]:
    rows = [{"review_id": f"r{i}", "product": {"sku": f"P{i % 3}"},
             "review_body": ("" if i % 17 == 0 else f"bad, \"broken\"\nline two {i}" if i % 5 == 0
                             else f"lovely {i} 好评"),
             "stars": f"{1 + i % 5}/5", "date": f"2026-03-{1 + i % 28:02d}"} for i in range(300)]
    jsonl = d / "in.jsonl"
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    flat = pl.DataFrame([{**{k: v for k, v in r.items() if k != "product"},
                          "sku": r["product"]["sku"]} for r in rows])
    csv_gb = d / "in.csv"
    csv_gb.write_bytes(flat.write_csv().encode("gb18030"))
    tsv_bom = d / "in.tsv"
    tsv_bom.write_bytes(b"\xef\xbb\xbf" + flat.write_csv(separator="\t").encode())
    parquet = d / "in.parquet"
    flat.write_parquet(parquet)
    return [jsonl, csv_gb, tsv_bom, parquet]


def test_streamed_files_score_exactly_like_files_read_whole(tmp_path, fake_analyzer, monkeypatch):
    inputs = write_inputs(tmp_path)
    whole = score_to_file(inputs, fake_analyzer, tmp_path / "whole.parquet", chunk_rows=64,
                          progress=False)
    monkeypatch.setattr(ingest, "STREAM_MIN_BYTES", 0)  # stream every file
    streamed = score_to_file(inputs, fake_analyzer, tmp_path / "streamed.parquet", chunk_rows=64,
                             progress=False)
    assert_frame_equal(pl.read_parquet(tmp_path / "streamed.parquet"),
                       pl.read_parquet(tmp_path / "whole.parquet"))
    assert streamed.rows == whole.rows == 4 * (300 - 18)
    assert streamed.reasons() == whole.reasons() == {"empty review text": 4 * 18}
    # _row counts from the top of the file in every chunk, for the rejects file
    rows = sorted(r["_row"] for r in streamed.rejects if r.height for r in r.iter_rows(named=True))
    assert rows[:2] == [0, 0] and 289 in rows


def test_streamed_csv_errors_are_one_fix_it_line(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "STREAM_MIN_BYTES", 0)
    dup = tmp_path / "dup.csv"
    dup.write_text("text,text\na,b\n")
    with pytest.raises(ingest.IngestError, match="duplicate column names"):
        list(ingest.iter_reviews(dup))
    header = tmp_path / "header.csv"
    header.write_text("id,text\n")
    with pytest.raises(ingest.IngestError, match="no review rows"):
        list(ingest.iter_reviews(header))
    only_bad = tmp_path / "only_bad.jsonl"
    only_bad.write_text('{not json\n[1, 2]\n')
    with pytest.raises(ingest.IngestError, match="line 1"):
        list(ingest.iter_reviews(only_bad))


@pytest.mark.parametrize("streamed", [True, False])
def test_bad_lines_inside_a_big_file_are_skipped_with_their_reason(tmp_path, fake_analyzer,
                                                                  monkeypatch, streamed):
    if streamed:
        monkeypatch.setattr(ingest, "STREAM_MIN_BYTES", 0)
    src = tmp_path / "scraped.jsonl"
    lines = [json.dumps({"id": f"r{i}", "text": f"fine {i}"}) for i in range(100)]
    lines[10], lines[57] = '{"id": "broken", "text": "cut off', "[1, 2, 3]"
    src.write_text("\n".join(lines) + "\n")
    summary = score_to_file([src], fake_analyzer, tmp_path / "out.csv", chunk_rows=16,
                            progress=False)
    assert summary.rows == 98
    assert summary.reasons() == {"not valid JSON": 2}
    reasons = sorted(r for f in summary.rejects for r in f["_reason"].to_list())
    assert reasons[0].startswith("line 11: not valid JSON") and reasons[1].startswith("line 58")
    assert "skipped 2 unusable rows (2 not valid JSON)" in summary.line()


def test_repeated_reviews_are_counted_and_left_out_with_dedup(tmp_path, fake_analyzer):
    src = tmp_path / "scraped.csv"
    pages = [f"r{i},fine {i}" for i in range(50)]
    src.write_text("id,text\n" + "\n".join(pages + pages[:20]) + "\n")  # a page scraped twice
    kept = score_to_file([src], fake_analyzer, tmp_path / "all.csv", chunk_rows=16,
                         progress=False)
    assert (kept.rows, kept.duplicates, kept.dropped) == (70, 20, 0)
    assert "--dedup leaves them out" in kept.line()
    dropped = score_to_file([src], fake_analyzer, tmp_path / "dedup.csv", chunk_rows=16,
                            progress=False, dedup=True)
    assert (dropped.rows, dropped.duplicates, dropped.dropped) == (50, 20, 20)
    assert pl.read_csv(tmp_path / "dedup.csv")["id"].n_unique() == 50


def test_progress_without_a_terminal_logs_plain_lines(capsys):
    progress = Progress(total=100, label="out.csv", enabled=True, every_s=0)
    progress.update(40)
    progress.close()
    err = capsys.readouterr().err
    assert "out.csv: 40 reviews" in err and "s left" in err and "\r" not in err


PEAK = textwrap.dedent(f"""
    import sys
    sys.path.insert(0, {str(TESTS)!r})
    from conftest import KeywordAnalyzer
    import monitor.ingest as ingest
    ingest.STREAM_MIN_BYTES = 0
    from monitor.batch import score_to_file
    from pathlib import Path
    s = score_to_file([Path(sys.argv[1])], KeywordAnalyzer(), Path(sys.argv[2]), progress=False)
    assert s.rows == int(sys.argv[3]), s.rows
    # VmHWM: this program's own peak (ru_maxrss would include the parent's size before exec)
    print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")))
""")


def start_peak(src: Path, out: Path, rows: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", PEAK, str(src), str(out), str(rows)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def peak_rss_kb(proc: subprocess.Popen) -> int:
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr
    return int(stdout.strip())


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_memory_stays_flat_as_the_input_grows(tmp_path, suffix):
    running = {}
    for rows in (20_000, 200_000):
        frame = pl.DataFrame({"id": [f"r{i}" for i in range(rows)],
                              "text": [f"review number {i} " + "words " * 40
                                       for i in range(rows)]})
        src = tmp_path / f"in{rows}{suffix}"
        frame.write_csv(src) if suffix == ".csv" else frame.write_ndjson(src)
        # each size in its own process, the two at once: each measures its own peak
        running[rows] = start_peak(src, tmp_path / f"out{rows}.parquet", rows)
    try:
        sizes = {rows: peak_rss_kb(proc) for rows, proc in running.items()}
    finally:
        for proc in running.values():  # a failed size leaves no process behind
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    grew_mb = (sizes[200_000] - sizes[20_000]) / 1024
    # 10x the rows (55 MB more input): streamed, the peak grows by the key set (~15 MB); read
    # whole, it grows by ~250 MB
    assert grew_mb < 80, f"peak memory grew {grew_mb:.0f} MB for 10x the rows: {sizes}"


@pytest.mark.parametrize("read,seconds,shown", [(2, 10.2, "(0.2/s)"), (5000, 40.0, "(125/s)")])
def test_summary_line_shows_a_small_files_rate_instead_of_zero(read, seconds, shown):
    from monitor.batch import ScoreSummary

    assert shown in ScoreSummary(rows=read, read=read, seconds=seconds).line()
