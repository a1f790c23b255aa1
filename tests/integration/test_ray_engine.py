"""`monitor score --engine ray` gives the local engine's output: same columns, same rows in the
same order, same values within float tolerance (real model, Ray started on this machine).
`make test` installs the `scale` extra, so this runs in CI."""

import os
import subprocess
import sys

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from monitor.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow
pytest.importorskip("ray.data", reason="install the scale extra: pip install -e '.[scale]'")


def score(*args, env=None):
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", "score", *map(str, args),
                           "--quiet"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr
    return proc


# bf16 rounds differently with another batch shape, so its floats agree to 1e-2, not 1e-4;
# every category, severity and evidence must still be the same
@pytest.mark.parametrize("precision,tolerance", [("fp32", 1e-4), ("bf16", 1e-2)])
def test_ray_engine_matches_the_local_engine(tmp_path, precision, tolerance):
    sample = pl.read_csv(PROJECT_ROOT / "data" / "sample_reviews.csv").head(120)
    sample = sample.with_columns(pl.when(pl.int_range(pl.len()) == 7).then(pl.lit(" "))
                                 .otherwise(pl.col("text")).alias("text"))  # one reject
    csv_in, pq_in = tmp_path / "in.csv", tmp_path / "in.parquet"
    sample.write_csv(csv_in)
    sample.write_parquet(pq_in)
    env = {"MONITOR_PRECISION": precision}
    score(csv_in, pq_in, "--out", tmp_path / "local.parquet", env=env)
    ray_run = score(csv_in, pq_in, "--out", tmp_path / "ray.parquet", "--engine", "ray",
                    "--chunk-rows", "32", env=env)
    assert "on Ray" in ray_run.stderr
    local = pl.read_parquet(tmp_path / "local.parquet")
    on_ray = pl.read_parquet(tmp_path / "ray.parquet")
    assert local.height == on_ray.height == 2 * 119
    assert on_ray.columns == local.columns
    assert_frame_equal(on_ray, local, check_exact=False, rel_tol=tolerance, abs_tol=tolerance)


def test_ray_engine_refuses_resume_and_bad_engines(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,text\n1,fine\n")
    for extra, message in ((["--engine", "ray", "--resume"], "--resume works with the local"),
                           (["--engine", "spark"], "use local or ray")):
        proc = subprocess.run([sys.executable, "-m", "monitor.cli", "score", str(src), "--out",
                               str(tmp_path / "o.parquet"), *extra], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
