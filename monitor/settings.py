"""All configuration in one place: environment variables with defaults that work out of the box."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import platformdirs
from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# the trained files the product loads: package data, so an installed wheel scores too
MODEL_FILES_DIR = Path(__file__).resolve().parent / "model_files"


def _default_data_dir() -> Path:
    # A source checkout keeps its database beside the code (./var), an installed copy in the
    # user's data folder: either way no server and nothing to configure.
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return PROJECT_ROOT / "var"
    return Path(platformdirs.user_data_dir("review-monitor"))


@dataclass(frozen=True)
class Settings:
    """Runtime settings read from `MONITOR_*` environment variables."""

    data_dir: Path
    db_url: str
    cache_dir: Path
    device: str
    batch_size: int
    max_length: int
    support_contact: str
    # "auto" (int8 star layers on a CPU without bf16 instructions), "off", "stars" (int8 star
    # layers on CPU) or "all" (every layer int8)
    quantize: str
    precision: str = "auto"  # "auto", "fp32", "bf16" or "fp16": the float type the model runs in
    # the probability the severity head needs before it names damage / delay (empty: as trained)
    severity_bars: dict[str, float] = field(default_factory=dict)
    # "aspects" (one pass: the aspect head decides, phrases back up level 1) or "v1" (the
    # earlier engine: phrases, then a second pass through the packaged layers for severity)
    judgement: str = "aspects"
    # the seller team's time zone (MONITOR_TEAM_TZ): how deadlines, due times and the alerts
    # log are shown to the team (`monitor.clock`); stored times stay UTC
    team_tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ
        data_dir = Path(env.get("MONITOR_DATA_DIR") or _default_data_dir())
        return cls(
            data_dir=data_dir,
            db_url=env.get("MONITOR_DB_URL") or f"sqlite:///{data_dir / 'monitor.db'}",
            cache_dir=Path(env.get("MONITOR_CACHE_DIR")
                           or platformdirs.user_cache_dir("review-monitor")),
            device=env.get("MONITOR_DEVICE", "auto"),
            batch_size=env_number("MONITOR_BATCH_SIZE", 32, low=1, high=65536, whole=True,
                                  meaning="reviews per model batch"),
            max_length=env_number("MONITOR_MAX_LENGTH", 256, low=8, high=MODEL_MAX_TOKENS,
                                  whole=True, meaning="tokens kept of each review"),
            support_contact=env.get("MONITOR_SUPPORT_CONTACT", "support@example.com"),
            quantize=parse_quantize(env.get("MONITOR_QUANTIZE", "")),
            precision=parse_precision(env.get("MONITOR_PRECISION", "")),
            severity_bars=parse_severity_bars(env.get("MONITOR_SEVERITY_MIN_PROB", "")),
            judgement=parse_judgement(env.get("MONITOR_JUDGEMENT", "")),
            team_tz=parse_team_tz(env.get("MONITOR_TEAM_TZ", "")),
        )


MODEL_MAX_TOKENS = 512  # multilingual-e5-small's position embeddings


def env_number(name: str, default: float, *, low: float, high: float, meaning: str,
               whole: bool = False):
    """A numeric MONITOR_* setting within [low, high] (a whole number if `whole`), its default
    when unset; anything else is refused in one line that names the variable and the range."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value) if whole else float(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{name}={value!r} is not {kind} from {low:g} to {high:g} "
                         f"({meaning}; default {default:g})")
    return number


QUANTIZE_MODES = {"": "auto", "auto": "auto", "stars": "stars",
                  "int8": "all", "all": "all", "1": "all", "true": "all", "yes": "all",
                  "off": "off", "0": "off", "false": "off", "no": "off", "fp32": "off"}


def parse_quantize(value: str) -> str:
    """MONITOR_QUANTIZE -> "auto" (default), "off", "stars" or "all"; anything else is refused."""
    try:
        return QUANTIZE_MODES[value.strip().lower()]
    except KeyError:
        raise ConfigError(f"MONITOR_QUANTIZE={value!r} is not a mode: use auto (default: int8 "
                         "star layers on a CPU without bf16 instructions), off, stars (int8 star "
                         "layers) or int8 (every layer)") from None


JUDGEMENTS = ("aspects", "v1")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def _choice(name: str, value: str, choices: tuple[str, ...], what: str, explained: str) -> str:
    """A MONITOR_* value that must be one of `choices` (the first is the default)."""
    value = value.strip().lower() or choices[0]
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not {what}: use {explained}")
    return value


def parse_judgement(value: str) -> str:
    """MONITOR_JUDGEMENT -> "aspects" (default) or "v1"; anything else is refused."""
    return _choice("MONITOR_JUDGEMENT", value, JUDGEMENTS, "an engine",
                   "aspects (default: one encoder pass, learned complaint aspects) or v1 (the "
                   "earlier phrase + second-pass engine)")


def parse_precision(value: str) -> str:
    """MONITOR_PRECISION -> "auto" (default), "fp32", "bf16" or "fp16"; anything else is refused."""
    return _choice("MONITOR_PRECISION", value, PRECISIONS, "a precision",
                   "auto (default: bf16 on a CPU with bf16 instructions, fp16 on a GPU, else "
                   "fp32), fp32, bf16 or fp16")


def parse_team_tz(value: str) -> ZoneInfo:
    """MONITOR_TEAM_TZ -> the team's time zone: an IANA name such as Asia/Shanghai (UTC when
    empty; the case of the letters does not matter); anything else is refused in one line that
    names the closest zone."""
    name = value.strip()
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (LookupError, ValueError, OSError):  # unknown, a path, a folder such as "Asia"
        pass
    from difflib import get_close_matches
    from zoneinfo import available_timezones

    zones = {z.lower(): z for z in available_timezones()}
    if name.lower() in zones:  # asia/shanghai
        return ZoneInfo(zones[name.lower()])
    offset = re.fullmatch(r"(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?00)?", name.lower())
    if offset:  # UTC+8: IANA writes a fixed offset with the sign inverted
        sign, hours = "-" if offset[1] == "+" else "+", int(offset[2])
        close = [f"Etc/GMT{sign}{hours}"] if f"etc/gmt{sign}{hours}" in zones else []
    else:
        close = [zones[z] for z in get_close_matches(name.lower(), list(zones), n=1, cutoff=0.7)]
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise ConfigError(f"MONITOR_TEAM_TZ={value!r} is not a time zone{hint}: use an IANA name "
                      "such as Asia/Shanghai, Europe/Berlin or America/New_York (default UTC)")


def parse_severity_bars(value: str) -> dict[str, float]:
    """MONITOR_SEVERITY_MIN_PROB "damage=0.6,delay=0.7" -> {"damage": 0.6, "delay": 0.7}."""
    bars = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        name, _, number = part.partition("=")
        try:
            bar = float(number)
        except ValueError:
            bar = -1.0
        if name.strip().lower() not in ("damage", "delay") or not 0 < bar <= 1:
            raise ConfigError(f"MONITOR_SEVERITY_MIN_PROB: {part!r} is not damage=P or delay=P "
                             "with P above 0 and at most 1 (e.g. damage=0.6,delay=0.7)")
        bars[name.strip().lower()] = bar
    return bars


def redact_url(url: str) -> str:
    """Hide the password of a database URL before it is shown or logged."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def load_config_file(path: str | Path | None = None) -> list[str]:
    """Fill unset MONITOR_* variables from a TOML file; the environment always wins.

    The file is MONITOR_CONFIG, else ./monitor.toml when present. Keys are the variable names
    without the prefix, in any case: `db_url = "sqlite:///..."`, `webhook_url = "..."`, and may
    sit at the top level or under a [monitor] table. Returns the variables it set.
    """
    import os
    import tomllib

    path = Path(path or os.environ.get("MONITOR_CONFIG") or "monitor.toml")
    if not path.exists():
        if os.environ.get("MONITOR_CONFIG"):
            raise ConfigError(f"MONITOR_CONFIG {path}: file not found")
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({str(exc).splitlines()[0]})") from None
    table = data.get("monitor", data)
    applied = []
    for key, value in table.items():
        if isinstance(value, dict):
            continue
        name = "MONITOR_" + key.upper()
        if name not in os.environ:
            os.environ[name] = str(value).lower() if isinstance(value, bool) else str(value)
            applied.append(name)
    return applied
