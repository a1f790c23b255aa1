import os

import pytest

from conftest import run_cli
from monitor.settings import Settings, load_config_file


def test_toml_fills_unset_variables_and_the_environment_wins(tmp_path, monkeypatch):
    cfg = tmp_path / "monitor.toml"
    cfg.write_text('[monitor]\ndb_url = "sqlite:///from-file.db"\nsupport_contact = "a@b.example"\n'
                   'sla_hours = "1=0.5"\n')
    monkeypatch.delenv("MONITOR_DB_URL", raising=False)
    monkeypatch.delenv("MONITOR_SLA_HOURS", raising=False)
    monkeypatch.setenv("MONITOR_SUPPORT_CONTACT", "env@wins.example")
    applied = load_config_file(cfg)
    assert sorted(applied) == ["MONITOR_DB_URL", "MONITOR_SLA_HOURS"]
    s = Settings.from_env()
    assert s.db_url == "sqlite:///from-file.db" and s.support_contact == "env@wins.example"
    for name in applied:  # set behind monkeypatch's back: popped, or its undo would restore them
        os.environ.pop(name)


def test_bad_config_file_is_a_one_line_error(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("db_url = [unclosed")
    proc = run_cli("queue", env={"MONITOR_CONFIG": cfg})
    assert proc.returncode == 2 and proc.stderr.startswith("error: ")
    assert len(proc.stderr.strip().splitlines()) == 1
    with pytest.raises(ValueError, match="file not found"):
        os.environ["MONITOR_CONFIG"] = str(tmp_path / "missing.toml")
        try:
            load_config_file()
        finally:
            del os.environ["MONITOR_CONFIG"]


@pytest.mark.parametrize("value,mode", [("", "auto"), ("AUTO", "auto"), ("stars", "stars"),
                                        ("int8", "all"),
                                        ("1", "all"), ("OFF", "off"), ("0", "off"), ("fp32", "off")])
def test_quantize_modes(monkeypatch, value, mode):
    monkeypatch.setenv("MONITOR_QUANTIZE", value)
    assert Settings.from_env().quantize == mode


def test_unknown_quantize_mode_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv("MONITOR_QUANTIZE", "int4")
    with pytest.raises(ValueError, match="auto .*off, stars .*int8"):
        Settings.from_env()


@pytest.mark.parametrize("value,precision", [("", "auto"), ("AUTO", "auto"), ("fp32", "fp32"),
                                             ("bf16", "bf16"), (" fp16 ", "fp16")])
def test_precisions(monkeypatch, value, precision):
    monkeypatch.setenv("MONITOR_PRECISION", value)
    assert Settings.from_env().precision == precision


def test_unknown_precision_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv("MONITOR_PRECISION", "float8")
    with pytest.raises(ValueError, match="auto .*fp32, bf16 or fp16"):
        Settings.from_env()


def test_auto_precision_follows_the_hardware(monkeypatch):
    from monitor.scoring import encoder

    monkeypatch.setattr(encoder, "native_bf16", lambda: True)
    assert encoder.resolve_precision("auto", "cpu") == "bf16"
    assert encoder.resolve_precision("auto", "cpu", quantize="stars") == "fp32"  # int8 needs fp32
    assert encoder.resolve_precision("auto", "cuda") == "fp16"
    monkeypatch.setattr(encoder, "native_bf16", lambda: False)
    assert encoder.resolve_precision("auto", "cpu") == "fp32"  # emulated bf16 would be slower
    assert encoder.resolve_precision("bf16", "cpu") == "bf16"  # asked for: given
    with pytest.raises(ValueError, match="fp16 is for a GPU"):
        encoder.resolve_precision("fp16", "cpu")


def test_auto_quantize_follows_the_hardware(monkeypatch):
    from monitor.scoring import encoder

    monkeypatch.setattr(encoder, "native_bf16", lambda: False)
    assert encoder.resolve_quantize("auto", "cpu") == "stars"  # smoothed int8 beats fp32 there
    assert encoder.resolve_quantize("auto", "cpu", "fp32") == "off"  # a float type asked for
    assert encoder.resolve_quantize("auto", "cuda") == "off"
    assert encoder.resolve_quantize("all", "cuda") == "off"  # int8 is CPU-only
    assert encoder.resolve_quantize("all", "cpu") == "all"
    monkeypatch.setattr(encoder, "native_bf16", lambda: True)
    assert encoder.resolve_quantize("auto", "cpu") == "off"  # bf16: faster and exact
    assert encoder.resolve_quantize("stars", "cpu") == "stars"  # asked for: given


def test_severity_bars(monkeypatch):
    monkeypatch.setenv("MONITOR_SEVERITY_MIN_PROB", " damage=0.6, Delay=0.75 ")
    assert Settings.from_env().severity_bars == {"damage": 0.6, "delay": 0.75}
    monkeypatch.delenv("MONITOR_SEVERITY_MIN_PROB")
    assert Settings.from_env().severity_bars == {}  # as trained


@pytest.mark.parametrize("value", ["damage=2", "counterfeit=0.5", "damage", "delay=abc",
                                   "damage=0"])
def test_bad_severity_bars_are_refused_with_an_example(monkeypatch, value):
    monkeypatch.setenv("MONITOR_SEVERITY_MIN_PROB", value)
    with pytest.raises(ValueError, match="damage=0.6,delay=0.7"):
        Settings.from_env()


@pytest.mark.parametrize("name,value", [("MONITOR_BATCH_SIZE", "abc"), ("MONITOR_BATCH_SIZE", "0"),
                                        ("MONITOR_MAX_LENGTH", "0"),
                                        ("MONITOR_MAX_LENGTH", "100000"),
                                        ("MONITOR_MAX_LENGTH", "2.5")])
def test_bad_whole_number_settings_name_the_variable_and_the_range(monkeypatch, name, value):
    """A batch size of 0 or a length past the model's 512 positions would fail deep inside the
    model with a traceback; they are refused up front instead."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=rf"^{name}='{value}' is not a whole number from \d+ to"):
        Settings.from_env()


def test_whole_number_settings_in_range_and_defaults(monkeypatch):
    monkeypatch.delenv("MONITOR_BATCH_SIZE", raising=False)
    monkeypatch.setenv("MONITOR_MAX_LENGTH", " 512 ")
    settings = Settings.from_env()
    assert settings.batch_size == 32 and settings.max_length == 512


@pytest.mark.parametrize("name,value,command", [
    ("MONITOR_STREAM_MIN_MB", "abc", ["score", "{csv}", "--out", "{out}"]),
    ("MONITOR_DB_BUSY_TIMEOUT_S", "soon", ["alerts", "send", "--db", "{db}"]),
    ("MONITOR_ALERT_MAX_ATTEMPTS", "0", ["alerts", "send", "--db", "{db}"]),
    ("MONITOR_ALERT_TIMEOUT_S", "-1", ["alerts", "send", "--db", "{db}"]),
    ("MONITOR_TEAM_TZ", "Mars/Olympus", ["cases", "list", "--db", "{db}"]),
    ("MONITOR_TEAM_TZ", "Asia/Shangai", ["alerts", "send", "--db", "{db}"]),
])
def test_bad_numeric_settings_are_one_line_errors_in_the_cli(tmp_path, name, value, command):
    """Read where they are used (ingest, store, alerts), these still end in one line naming the
    variable, exit 2, never a traceback (the stream threshold was read at import before)."""
    csv = tmp_path / "r.csv"
    csv.write_text("id,text\n1,fine\n")
    fill = {"csv": csv, "out": tmp_path / "o.parquet", "db": f"sqlite:///{tmp_path / 'm.db'}"}
    proc = run_cli(*[c.format(**fill) for c in command], env={name: value})
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {name}='{value}' is not")
    assert not (tmp_path / "o.parquet").exists()
