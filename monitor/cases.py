"""Case policy: which reviews open a case, its first-response deadline, and which alerts it raises.

Cases are opened by the store in the same transaction as the review they belong to, and their
alerts are written to the outbox in that transaction too, so a crash can never leave a severe
review without its case or its alert.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from . import languages
from .scoring.escalation import ESCALATION_TERMS, escalation_terms  # noqa: F401  (re-exported)
from .errors import InputError, MonitorError

CASE_STATES = ("new", "acknowledged", "replied", "resolved", "closed", "escalated")
# The workflow, written once: each state and the states a case may move to from it. "escalated"
# can be entered from any open state and left to work on the case; "closed" is the only end.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("acknowledged", "replied", "escalated", "closed"),
    "acknowledged": ("replied", "escalated", "closed"),
    "escalated": ("acknowledged", "replied", "resolved", "closed"),
    "replied": ("resolved", "escalated", "closed"),
    "resolved": ("closed", "escalated"),
    "closed": (),
}
TERMINAL_STATES = tuple(s for s in CASE_STATES if not TRANSITIONS[s])
ACTIVE_STATES = tuple(s for s in CASE_STATES if TRANSITIONS[s])  # an agent can still act on it
WAITING_STATES = ("new", "acknowledged", "escalated")  # the buyer still waits for a first answer
AFTER_REPLY_STATES = tuple(s for s in ACTIVE_STATES if s not in WAITING_STATES)
FIRST_RESPONSE_STATES = ("replied",)


class TransitionError(MonitorError, ValueError):
    """A state change that the case workflow does not allow."""


class ConcurrentEditError(MonitorError):
    """Someone else changed the case first; reload it and try again."""


def check_transition(from_state: str, to_state: str) -> None:
    """Raise TransitionError, saying what is allowed, unless `from_state -> to_state` is a move
    of the workflow."""
    if to_state not in CASE_STATES:
        raise TransitionError(f"unknown case state '{to_state}'; use one of {', '.join(CASE_STATES)}")
    if to_state not in TRANSITIONS[from_state]:
        allowed = ", ".join(TRANSITIONS[from_state]) or "nothing (closed)"
        raise TransitionError(f"a {from_state} case cannot become {to_state}; allowed: {allowed}")


# First-response targets in hours. Level 1 is the product's promise (counterfeit: 1 hour);
# damage within a working half-day, delay within a day, other negatives within two days.
DEFAULT_SLA_HOURS: dict[str, float] = {"1": 1.0, "2": 4.0, "3": 24.0, "other": 48.0}
ALERT_LEVELS = (1, 2)  # level-1 and level-2 cases alert the service team at once


LEVEL_CATEGORY = {1: "counterfeit", 2: "damage", 3: "delay"}


# How deadlines read; the dashboard passes these through its catalog for the team's language.
TIME_WORDS: dict[str, str] = {"min": "{n} min", "h": "{n} h", "d": "{n} d",
                              "overdue": "overdue {span}", "left": "{span} left"}


def level_names(sla_hours: dict[str, float], *, names: dict[int, str] | None = None,
                words: dict[str, str] = TIME_WORDS) -> dict[int, str]:
    """People's names of the levels with their first-response target: "L1 counterfeit (1 h)";
    `names` and `words` (TIME_WORDS) give them in another language ("L1 假货质疑 (1小时)")."""
    def span(hours: float) -> str:
        return (words["min"].format(n=f"{hours * 60:g}") if hours < 1
                else words["h"].format(n=f"{hours:g}"))

    names = names or LEVEL_CATEGORY
    return {lvl: f"L{lvl} {names[lvl]} ({span(sla_hours[str(lvl)])})" for lvl in LEVEL_CATEGORY}


def parse_sla_hours(spec: str | None) -> dict[str, float]:
    """`MONITOR_SLA_HOURS` such as "1=1,2=4,3=24,other=48" over the defaults."""
    hours = dict(DEFAULT_SLA_HOURS)
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        key, _, value = part.partition("=")
        key = key.strip().lower()
        if key not in hours:
            raise InputError(f"MONITOR_SLA_HOURS: unknown level '{key}'; use 1, 2, 3 or other")
        try:
            hours[key] = float(value)
        except ValueError:
            raise InputError(f"MONITOR_SLA_HOURS: '{part.strip()}' needs a number of hours") from None
        if hours[key] <= 0:
            raise InputError(f"MONITOR_SLA_HOURS: '{part.strip()}' must be more than 0 hours")
    return hours


def parse_agents(spec: str | None) -> dict[str, tuple[str, ...]]:
    """`MONITOR_AGENTS` such as "ana*=en,de;bo=ja,zh" -> {"ana*": ("en", "de"), "bo": ("ja", "zh")};
    a trailing * marks a senior agent (level-1 cases go to seniors)."""
    agents: dict[str, tuple[str, ...]] = {}
    for part in (spec or "").split(";"):
        if not part.strip():
            continue
        name, sep, langs = part.partition("=")
        if not sep or not name.strip().rstrip("*"):
            raise InputError(f"MONITOR_AGENTS: '{part.strip()}' should look like name=en,de "
                             "(name*=... for a senior agent)")
        agents[name.strip()] = tuple(x.strip().lower() for x in langs.split(",") if x.strip())
    return agents


# What an agent gathers before answering a counterfeit claim.
COUNTERFEIT_EVIDENCE: dict[str, str] = {
    "order_id": "order id confirmed",
    "batch_lot": "batch / lot number from the buyer's item",
    "channel_proof": "invoice or authorised-channel proof for that batch",
    "photos": "photos requested from the buyer (logo, label, packaging)",
}


def _positive(env, name: str, default: str, kind):
    try:
        value = kind(env.get(name) or default)
    except ValueError:
        value = 0
    if value <= 0:
        raise InputError(f"{name} must be a positive {'whole ' if kind is int else ''}number, "
                         f"e.g. {default}")
    return value


@dataclass(frozen=True)
class CasePolicy:
    """Deadlines per severity and the alert channels configured for new severe cases."""

    sla_hours: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SLA_HOURS))
    alert_channels: tuple[str, ...] = ()
    dashboard_url: str = "http://127.0.0.1:8501"
    agents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    brand_owner: str | None = None
    spike_k: float = 2.0  # standard deviations over the trailing 7-day mean (1.5 / 2 / 3)
    spike_min_count: int = 3  # complaints in a day before a day can be a spike

    @classmethod
    def from_env(cls) -> "CasePolicy":
        env = os.environ
        channels = tuple(name for name, var in (("webhook", "MONITOR_WEBHOOK_URL"),
                                                ("slack", "MONITOR_SLACK_WEBHOOK_URL"))
                         if env.get(var))
        if env.get("MONITOR_SMTP_URL") and env.get("MONITOR_ALERT_EMAIL_TO"):
            channels += ("email",)
        return cls(sla_hours=parse_sla_hours(env.get("MONITOR_SLA_HOURS")),
                   alert_channels=channels,
                   dashboard_url=env.get("MONITOR_DASHBOARD_URL", "http://127.0.0.1:8501"),
                   agents=parse_agents(env.get("MONITOR_AGENTS")),
                   brand_owner=env.get("MONITOR_BRAND_OWNER") or None,
                   spike_k=_positive(env, "MONITOR_SPIKE_K", "2", float),
                   spike_min_count=_positive(env, "MONITOR_SPIKE_MIN_COUNT", "3", int))

    def channels_line(self) -> str:
        """Where level-1/2 alerts go, in one line, or that nothing is set (so "0 alerts queued"
        is not read as "nothing severe came in")."""
        if self.alert_channels:
            return "alert channels: " + ", ".join(self.alert_channels)
        return ("alert channels: none set, so severe cases alert nobody (set "
                "MONITOR_WEBHOOK_URL, MONITOR_SLACK_WEBHOOK_URL, or MONITOR_SMTP_URL with "
                "MONITOR_ALERT_EMAIL_TO)")

    def route(self, lang: str, open_cases: dict[str, int], *, senior: bool = False,
              any_language: bool = False) -> str | None:
        """The agent who speaks `lang` with the fewest open cases; None if nobody speaks it.
        With `senior`, only senior agents (name*); with `any_language`, whatever they speak."""
        pool = {a: langs for a, langs in self.agents.items() if a.endswith("*") or not senior}
        speakers = list(pool) if any_language else [a for a, langs in pool.items() if lang in langs]
        best = min(speakers, key=lambda a: (open_cases.get(a.rstrip("*"), 0), a)) if speakers else None
        return best.rstrip("*") if best else None

    def owners(self, severity: int | None, lang: str, escalating: bool,
               open_cases: dict[str, int]) -> tuple[str | None, str | None]:
        """(assignee, co-owners) of a new case; co-owners are comma-joined.

        Level 1: a senior agent who speaks the buyer's language owns it; when no senior does, a
        senior owns it and an agent who speaks the language joins as co-owner; the brand owner
        always co-owns it. Otherwise an escalating buyer gets an agent who speaks their language.
        """
        native = self.route(lang, open_cases)
        if severity != 1:
            return (native if escalating else None), None
        assignee, helper = self.route(lang, open_cases, senior=True), None
        if assignee is None:
            assignee = self.route(lang, open_cases, senior=True, any_language=True) or native
            helper = native
        co_owners = [x for x in (helper, self.brand_owner) if x and x != assignee]
        return assignee, ", ".join(dict.fromkeys(co_owners)) or None

    def due_at(self, severity: int | None, opened_at: datetime) -> datetime:
        key = str(severity) if severity in (1, 2, 3) else "other"
        return opened_at + timedelta(hours=self.sla_hours[key])

    def alerts_for(self, severity: int | None, sentiment: str) -> tuple[str, ...]:
        """Channels to alert for a new case; positive reviews never alert."""
        if severity in ALERT_LEVELS and sentiment != "positive":
            return self.alert_channels
        return ()

    def payload(self, case_id: int, review: dict) -> dict:
        """The alert body: what the team needs to act, and a link to the case."""
        return {
            "event": "case.opened",
            "case_id": case_id,
            "review_id": review.get("review_id") or review["review_key"],
            "review_key": review["review_key"],
            "product_id": review.get("product_id"),
            "marketplace": review.get("marketplace"),
            "category": review["category"],
            "severity": review["severity"],
            "language": review["lang"],
            "evidence": review.get("evidence") or "",
            "due_at": self.due_at(review["severity"], review["_opened_at"]).isoformat() + "Z",
            "link": f"{self.dashboard_url.rstrip('/')}/?case={case_id}",
        }


def time_left(due_at: datetime | None, now: datetime, words: dict[str, str] = TIME_WORDS) -> str:
    """Human label for a deadline: "overdue 3 h", "45 min left", "2 d left"; "" without one.
    `words` (TIME_WORDS) give it in another language."""
    if due_at is None:
        return ""
    seconds = (due_at - now).total_seconds()
    span = abs(seconds)
    if span < 3600:
        text = words["min"].format(n=int(span // 60))
    elif span < 2 * 86400:
        text = words["h"].format(n=f"{span / 3600:.0f}")
    else:
        text = words["d"].format(n=f"{span / 86400:.0f}")
    return (words["overdue"] if seconds < 0 else words["left"]).format(span=text)


# Follow-ups after a case is resolved: what changed because of the complaint (7 days), and an
# invitation to try the product again (30 days).
FOLLOW_UPS: dict[str, int] = {"improvement_report": 7, "try_again": 30}
CONTACT_HOUR = 9  # local morning: never contact a buyer during their night
MARKETPLACE_TZ = {
    "amazon.com": "America/New_York", "amazon.ca": "America/Toronto",
    "amazon.com.mx": "America/Mexico_City", "amazon.com.br": "America/Sao_Paulo",
    "amazon.co.uk": "Europe/London", "amazon.de": "Europe/Berlin", "amazon.fr": "Europe/Paris",
    "amazon.es": "Europe/Madrid", "amazon.it": "Europe/Rome", "amazon.nl": "Europe/Amsterdam",
    "amazon.pl": "Europe/Warsaw", "amazon.se": "Europe/Stockholm", "amazon.co.jp": "Asia/Tokyo",
    "amazon.in": "Asia/Kolkata", "amazon.com.au": "Australia/Sydney", "amazon.ae": "Asia/Dubai",
    "amazon.sa": "Asia/Riyadh", "tmall": "Asia/Shanghai", "taobao": "Asia/Shanghai",
    "jd": "Asia/Shanghai", "noon": "Asia/Dubai", "rakuten": "Asia/Tokyo",
}
LANGUAGE_TZ: dict[str, str] = languages.table("time_zone")  # monitor/languages/<code>.json


def buyer_timezone(marketplace: str | None, lang: str | None) -> ZoneInfo:
    """The buyer's likely time zone: from the marketplace when known, else the language, else UTC."""
    name = MARKETPLACE_TZ.get((marketplace or "").strip().lower()) or LANGUAGE_TZ.get(lang or "")
    return ZoneInfo(name or "UTC")


def local_morning(due: datetime, tz: ZoneInfo) -> datetime:
    """The buyer's 09:00 on the due day (naive UTC), or the next day's if that has passed."""
    local = due.replace(tzinfo=timezone.utc).astimezone(tz)
    slot = datetime.combine(local.date(), time(CONTACT_HOUR), tzinfo=tz)
    if slot < local:
        slot = datetime.combine(local.date() + timedelta(days=1), time(CONTACT_HOUR), tzinfo=tz)
    return slot.astimezone(timezone.utc).replace(tzinfo=None)


def plan_follow_ups(resolved_at: datetime, marketplace: str | None, lang: str | None
                    ) -> list[tuple[str, datetime, datetime]]:
    """(kind, due_at, contact_at) for each follow-up of a case resolved at `resolved_at` (UTC)."""
    tz = buyer_timezone(marketplace, lang)
    plan = []
    for kind, days in FOLLOW_UPS.items():
        due = resolved_at + timedelta(days=days)
        # contact on the buyer's last local morning before the deadline, never at night
        contact = local_morning(due - timedelta(days=1), tz)
        plan.append((kind, due, min(contact, due)))
    return plan
