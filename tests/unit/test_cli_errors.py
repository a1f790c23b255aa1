"""Every error a user can cause: one line on stderr, exit code 2, no traceback, no output file."""

import subprocess
import sys

import pytest

from conftest import run_cli  # the command in this process: its exit code, stdout and stderr


def run_process(*args):
    """The command as its own process, for `serve`, which would block this one if it started."""
    return subprocess.run([sys.executable, "-m", "monitor.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def assert_user_error(proc, fragment):
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.fixture
def good_csv(tmp_path):
    p = tmp_path / "ok.csv"
    p.write_text("id,text\n1,fine\n")
    return p


CASES = {
    "missing": (lambda d: d / "nope.csv", "file not found"),
    "docx": (lambda d: (d / "r.docx").write_bytes(b"PK\x03\x04") and d / "r.docx",
             "unsupported file type"),
    "xlsx": (lambda d: (d / "r.xlsx").write_bytes(b"PK\x03\x04 cut short") and d / "r.xlsx",
             "not a readable Excel workbook"),
    "empty": (lambda d: (d / "e.csv").write_bytes(b"") and d / "e.csv" or d / "e.csv", "empty"),
    "no-text": (lambda d: (d / "t.csv").write_text("id,stars\n1,5\n") and d / "t.csv",
                "no review text column"),
    "binary": (lambda d: (d / "b.csv").write_bytes(b"\x00\x01garbage\x00") and d / "b.csv",
               "binary data"),
    "pdf": (lambda d: (d / "p.csv").write_bytes(b"%PDF-1.4\n...") and d / "p.csv", "PDF"),
    "pattern": (lambda d: d / "dumps" / "*.jsonl", "no files match this pattern"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_score_bad_input(tmp_path, case):
    make, fragment = CASES[case]
    out = tmp_path / "out.parquet"
    proc = run_cli("score", make(tmp_path), "--out", out)
    assert_user_error(proc, fragment)
    assert not out.exists()


def test_score_bad_output_extension(tmp_path, good_csv):
    proc = run_cli("score", good_csv, "--out", tmp_path / "out.xlsx")
    assert_user_error(proc, "unsupported output type")
    assert not (tmp_path / "out.xlsx").exists()


def test_score_unknown_text_column(tmp_path, good_csv):
    proc = run_cli("score", good_csv, "--out", tmp_path / "o.csv", "--text-column", "body2")
    assert_user_error(proc, "'body2' not found")


def test_one_bad_file_among_good_ones_writes_nothing(tmp_path, good_csv):
    out = tmp_path / "out.csv"
    proc = run_cli("score", good_csv, tmp_path / "missing.csv", "--out", out)
    assert_user_error(proc, "file not found")
    assert not out.exists()


def test_ingest_unwritable_database(tmp_path, good_csv):
    blocker = tmp_path / "f"
    blocker.write_text("x")
    proc = run_cli("ingest", good_csv, "--db", f"sqlite:///{blocker}/db/monitor.db")
    assert_user_error(proc, "cannot open database")


def test_ingest_database_url_password_is_redacted(good_csv):
    proc = run_cli("ingest", good_csv, "--db", "nosuchdriver://user:s3cret@127.0.0.1/db")
    assert proc.returncode == 2
    assert "s3cret" not in proc.stderr


@pytest.mark.parametrize("model", ["missing", "corrupt"])
def test_score_with_an_unusable_star_model(tmp_path, good_csv, monkeypatch, model):
    """A mistyped MONITOR_STAR_MODEL must not quietly fall back to the weaker linear head, and a
    file that is not a model is one line; either way no output and no parts folder is left."""
    path = tmp_path / "mine.safetensors"
    if model == "corrupt":
        path.write_bytes(b"\x93not a safetensors file" * 4)
    monkeypatch.setenv("MONITOR_STAR_MODEL", str(path))
    out = tmp_path / "out.parquet"
    proc = run_cli("score", good_csv, "--out", out)
    assert_user_error(proc, "no star model at" if model == "missing" else "is not a star model")
    assert "MONITOR_STAR_MODEL" in proc.stderr
    assert not out.exists() and not (tmp_path / "out.parquet.parts").exists()


def test_serve_refuses_a_port_it_cannot_listen_on_before_loading_the_model(tmp_path,
                                                                           monkeypatch):
    import socket

    monkeypatch.setenv("MONITOR_API_KEYS", "k1:write")
    monkeypatch.setenv("MONITOR_DB_URL", f"sqlite:///{tmp_path / 'm.db'}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_user_error(run_process("serve", "--port", port),
                          f"cannot listen on 127.0.0.1:{port}")
    assert_user_error(run_process("serve", "--port", 99999), "--port 99999 is not a port")


@pytest.mark.parametrize("command", [["queue"], ["trends"], ["alerts", "list"],
                                     ["report", "--product", "p1", "--out", "r.md"]])
def test_read_commands_on_a_mistyped_database_path_create_nothing(tmp_path, command):
    """A typo in --db used to create an empty database there and report "nothing to do"."""
    missing = tmp_path / "typo" / "monitr.db"
    proc = run_cli(*command, "--db", f"sqlite:///{missing}", cwd=tmp_path)
    assert_user_error(proc, f"no database at {missing}")
    assert not missing.exists() and not missing.parent.exists()
    assert not (tmp_path / "r.md").exists()


@pytest.mark.parametrize("args,fragment", [
    (["queue", "--limit", "0", "--db", "{db}"], "--limit must be at least 1"),
    (["report", "--product", "p1", "--out", "r.md", "--days", "0", "--db", "{db}"],
     "--days must be at least 1"),
    (["alerts", "send", "--loop", "--interval", "0", "--db", "{db}"],
     "--interval must be more than 0"),
    (["bench", "--rows", "0"], "--rows and --naive-rows must be at least 1"),
])
def test_numeric_options_out_of_range_are_one_line_errors(tmp_path, args, fragment):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    proc = run_cli(*[a.format(db=db) for a in args], cwd=tmp_path)
    assert_user_error(proc, fragment)
