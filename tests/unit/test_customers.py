from datetime import datetime, timedelta

import pytest

from monitor.customers import customer_tiers, read_orders
from monitor.ingest import IngestError

NOW = datetime(2026, 11, 1)


def orders_csv(tmp_path, rows):
    lines = ["customer_id,order_date,total"] + [f"{c},{d:%Y-%m-%d},{a}" for c, d, a in rows]
    (tmp_path / "o.csv").write_text("\n".join(lines) + "\n")
    return tmp_path / "o.csv"


def test_tiers(tmp_path):
    m = lambda days: NOW - timedelta(days=days)  # noqa: E731
    rows = ([("vip", m(10 * i), 120) for i in range(5)]            # 600 in 12 months, 4 repeats
            + [("growth", m(5), 250), ("growth", m(40), 30)]       # big single order, 1 repeat
            + [("sleepy", m(300), 50), ("sleepy", m(200), 40)]     # nothing for 6+ months
            + [("many-small", m(i), 20) for i in range(6)]         # regular
            + [("lapsed-vip", m(370 + i), 150) for i in range(6)])  # all spend over a year ago
    tiers = customer_tiers(read_orders(orders_csv(tmp_path, rows)), now=NOW)
    got = dict(zip(tiers["customer_id"], tiers["tier"]))
    assert got == {"vip": "vip", "growth": "growth", "sleepy": "dormant",
                   "many-small": "regular", "lapsed-vip": "dormant"}


def test_order_file_without_amount_says_what_is_missing(tmp_path):
    (tmp_path / "o.csv").write_text("customer_id,date\nc1,2026-01-01\n")
    with pytest.raises(IngestError, match="no amount column"):
        read_orders(tmp_path / "o.csv")


def test_vip_customers_come_first_within_a_severity_level(tmp_path, fake_analyzer, any_db_url):
    from conftest import run_cli
    from monitor.batch import ingest_batch
    from monitor.ingest import read_reviews
    from monitor.store import Store

    (tmp_path / "r.csv").write_text("review_id,customer_id,date,text,rating\n"
                                    "n1,c-new,2026-10-30,bad and broken,1\n"
                                    "v1,c-vip,2026-10-01,bad and broken,1\n"
                                    "o1,c-new,2026-10-31,bad,2\n")
    store = Store(any_db_url)
    ingest_batch(read_reviews(tmp_path / "r.csv"), fake_analyzer, store, "t")
    assert store.response_queue()["review_id"].to_list() == ["n1", "v1", "o1"]  # newest first
    rows = [("c-vip", NOW - timedelta(days=20 * i), 150) for i in range(5)]
    proc = run_cli("customers", orders_csv(tmp_path, rows), "--db", any_db_url)
    assert proc.returncode == 0 and "1 vip" in proc.stderr, proc.stderr
    queue = store.response_queue()
    assert queue["review_id"].to_list() == ["v1", "n1", "o1"]
    assert queue["tier"].to_list() == ["vip", None, None]
