"""The wheel a seller installs (`pip install review-monitor-*.whl`) scores on its own: the model
files are package data, nothing is read from the checkout. Built with `pip wheel`, installed
into a fresh virtual environment outside the checkout, and run from another folder.

The new environment borrows the already-installed dependencies (torch, transformers, ...)
through a path entry instead of downloading them again; the project itself comes only from the
wheel (the checkout's editable install is not visible there)."""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import polars as pl
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
MAX_WHEEL_MB = 100


def run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)
    assert proc.returncode == 0, (cmd, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc


def test_an_installed_wheel_scores_outside_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(ROOT)])
    [wheel] = dist.glob("review_monitor-*.whl")
    assert wheel.stat().st_size < MAX_WHEEL_MB * 1_000_000

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    py = venv / "bin" / "python"
    site = Path(run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
                    ).stdout.strip())
    # the dependencies, not the project: a plain path entry does not run the editable finder
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([str(py), "-m", "pip", "install", "--no-deps", "-q", str(wheel)])

    work = tmp_path / "work"
    work.mkdir()
    where = run([str(py), "-c", "import monitor; print(monitor.__file__)"], cwd=work)
    assert where.stdout.strip().startswith(str(site))  # the wheel's copy, not the checkout
    (work / "in.csv").write_text("id,text,rating\n1,\"This is a fake, not the real brand.\",1\n"
                                 "2,Lovely and well made.,5\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run([str(venv / "bin" / "monitor"), "score", "in.csv", "--out", "out.parquet", "-q"],
        cwd=work, env={**env, "HF_HUB_OFFLINE": "1"})
    out = pl.read_parquet(work / "out.parquet")
    assert out["sentiment"].to_list() == ["negative", "positive"]
    assert out["category"][0] == "counterfeit" and out["aspects"][0].to_list() == ["counterfeit"]
