import os
import time

import pytest

from monitor.store import Store, StoreError
from monitor.watch import process_folder


def drop(path, content):
    """A file written a minute ago (settled)."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    t = time.time() - 60
    os.utime(path, (t, t))


def test_good_files_go_to_done_and_broken_ones_to_failed_with_a_reason(tmp_path, fake_analyzer,
                                                                        sqlite_url):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    drop(inbox / "a.csv", "id,text\n1,bad and broken\n2,lovely\n")
    drop(inbox / "b.csv", "id,stars\n1,5\n")
    drop(inbox / "c.pdf.csv", b"%PDF-1.4 ...")
    (inbox / "fresh.csv").write_text("id,text\n9,being written\n")  # too new: left alone
    (inbox / "notes.md").write_text("not a review file")
    store = Store(sqlite_url)
    res = process_folder(inbox, store, lambda: fake_analyzer, "t")
    assert res.done == ["a.csv"] and sorted(res.failed) == ["b.csv", "c.pdf.csv"]
    assert (inbox / "done" / "a.csv").exists()
    assert "2 added" in (inbox / "done" / "a.csv.txt").read_text()
    assert "no review text column" in (inbox / "failed" / "b.csv.txt").read_text()
    assert "PDF" in (inbox / "failed" / "c.pdf.csv.txt").read_text()
    assert (inbox / "fresh.csv").exists() and (inbox / "notes.md").exists()
    assert store.count() == 2
    # the same export dropped again: stored nothing new, both copies kept in done/
    drop(inbox / "a.csv", "id,text\n1,bad and broken\n2,lovely\n")
    process_folder(inbox, store, lambda: fake_analyzer, "t")
    assert len(list((inbox / "done").glob("a*.csv"))) == 2 and store.count() == 2


def test_database_down_leaves_the_file_in_place(tmp_path, fake_analyzer, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    drop(inbox / "a.csv", "id,text\n1,bad\n")
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")

    def down(*a, **k):
        raise StoreError("cannot write to the database")

    monkeypatch.setattr(store, "existing_keys", down)
    with pytest.raises(StoreError):
        process_folder(inbox, store, lambda: fake_analyzer, "t")
    assert (inbox / "a.csv").exists() and not (inbox / "failed").exists()


def test_an_excel_export_dropped_in_the_folder_is_ingested(tmp_path, fake_analyzer, sqlite_url):
    from conftest import write_xlsx

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_xlsx(inbox / "aliexpress.xlsx", {"Feedback": [["Order ID", "Review Content"],
                                                        [1, "bad and broken"], [2, "lovely"]]})
    t = time.time() - 60
    os.utime(inbox / "aliexpress.xlsx", (t, t))
    store = Store(sqlite_url)
    res = process_folder(inbox, store, lambda: fake_analyzer, "t")
    assert res.done == ["aliexpress.xlsx"] and store.count() == 2
