"""Deliver the alert outbox: generic JSON webhook (HMAC-signed) and Slack-compatible webhooks.

Alerts are written by the store with their case; this module only delivers them. Each attempt
is recorded; failures retry with exponential backoff and become "dead" after `max_attempts`.
Every request carries the alert's idempotency key, so a receiver that saw a delivery whose
acknowledgement was lost (process killed mid-send) can drop the repeat. Secrets (webhook URLs,
signing key) come from the environment and never appear in messages.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from .clock import format_date, format_utc_text, parse_utc_text, team_timezone
from .i18n import category_name, translate, ui_language
from .settings import env_number
from .store import Store

if TYPE_CHECKING:
    from .cases import CasePolicy

SIGNATURE_HEADER = "X-Monitor-Signature"
IDEMPOTENCY_HEADER = "X-Monitor-Idempotency-Key"
SEVERITY_LABEL = {1: "Level 1 (counterfeit claim)", 2: "Level 2 (damage)", 3: "Level 3 (delay)"}


@dataclass(frozen=True)
class AlertSettings:
    webhook_url: str | None = None
    webhook_secret: str | None = None
    slack_url: str | None = None
    smtp_url: str | None = None
    email_to: str | None = None
    email_from: str = "review-monitor@localhost"
    timeout_s: float = 10.0
    max_attempts: int = 8
    personal_data: bool = False  # e-mails, phones, order ids in Slack / e-mail alert text
    backoff_s: float = 30.0
    backoff_cap_s: float = 3600.0
    # the team's language and clock for Slack and e-mail texts; None: MONITOR_UI_LANG and
    # MONITOR_TEAM_TZ when the alert is sent
    lang: str | None = None
    team_tz: ZoneInfo | None = None

    @classmethod
    def from_env(cls) -> "AlertSettings":
        env = os.environ
        return cls(webhook_url=env.get("MONITOR_WEBHOOK_URL") or None,
                   webhook_secret=env.get("MONITOR_WEBHOOK_SECRET") or None,
                   slack_url=env.get("MONITOR_SLACK_WEBHOOK_URL") or None,
                   smtp_url=env.get("MONITOR_SMTP_URL") or None,
                   email_to=env.get("MONITOR_ALERT_EMAIL_TO") or None,
                   email_from=env.get("MONITOR_ALERT_EMAIL_FROM", "review-monitor@localhost"),
                   timeout_s=env_number("MONITOR_ALERT_TIMEOUT_S", 10.0, low=0.1, high=600,
                                        meaning="seconds a channel may take to answer"),
                   max_attempts=env_number("MONITOR_ALERT_MAX_ATTEMPTS", 8, low=1, high=1000,
                                           whole=True, meaning="tries before an alert is dead"),
                   personal_data=env.get("MONITOR_ALERT_PERSONAL_DATA", "0").lower()
                   in ("1", "true", "yes"),
                   # checked here, so a wrong one stops a sender before it claims an alert
                   lang=ui_language(), team_tz=team_timezone())

    def url_for(self, channel: str) -> str | None:
        return {"webhook": self.webhook_url, "slack": self.slack_url,
                "email": self.smtp_url if self.email_to else None}.get(channel)


@dataclass
class SendSummary:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0


def sign(body: bytes, secret: str) -> str:
    """HMAC-SHA256 of the raw body, as sent in X-Monitor-Signature ("sha256=<hex>")."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


SPIKE_TEXT = ("*Complaint spike* on {product}: {count} {category} complaints on {day} "
              "({last_7d} in 7 days, rule {rule}) - <{link}|open product>")
FOLLOW_UP_TEXT = ("*Follow-up overdue*: the {what} for case {case_id} ({product}, {language}) "
                  "was due {due_at} - <{link}|open the follow-ups>")
CASE_TEXT = ("*{level}* on {product} ({marketplace}, {language}): \u201c{evidence}\u201d - "
             "respond by {due_at} - <{link}|open case {case_id}>")


def slack_message(payload: dict, personal_data: bool = False, *, lang: str | None = None,
                  tz: ZoneInfo | None = None) -> dict:
    """Slack text for a case alert, in the team's language (`lang`, default MONITOR_UI_LANG)
    with its times in the team's zone (`tz`, default MONITOR_TEAM_TZ): no customer or order
    data, only what the team needs; the buyer's own words lose e-mails, phone numbers and order
    ids unless `personal_data`. The JSON webhook keeps its English keys and UTC times."""
    lang, tz = lang or ui_language(), tz or team_timezone()
    product = payload.get("product_id") or translate("unknown product", lang)
    due_at = format_utc_text(payload.get("due_at"), lang=lang, tz=tz)
    if payload.get("event") == "spike":
        day = parse_utc_text(payload.get("day"))  # a calendar day: written, never shifted
        return {"text": translate(SPIKE_TEXT, lang).format(
            product=product, count=payload.get("count"),
            category=category_name(payload.get("category"), lang),
            day=format_date(day, lang=lang) if day else payload.get("day"),
            last_7d=payload.get("last_7d"), rule=translate(str(payload.get("rule")), lang,
                                                           "spike rule"),
            link=payload.get("link"))}
    if payload.get("event") == "follow_up.overdue":
        what = translate(str(payload.get("kind") or "follow-up").replace("_", " "), lang)
        return {"text": translate(FOLLOW_UP_TEXT, lang).format(
            what=what, case_id=payload.get("case_id"), product=product,
            language=payload.get("language"), due_at=due_at, link=payload.get("link"))}
    evidence = payload.get("evidence") or ""
    if not personal_data:
        from .replies import redact_personal_data

        evidence = redact_personal_data(evidence)
    return {"text": translate(CASE_TEXT, lang).format(
        level=alert_level(payload, lang), product=product,
        marketplace=payload.get("marketplace") or "-", language=payload.get("language"),
        evidence=evidence[:200], due_at=due_at, link=payload.get("link"),
        case_id=payload.get("case_id"))}


EVENT_LABEL = {"spike": "Complaint spike", "follow_up.overdue": "Follow-up overdue"}


def alert_level(payload: dict, lang: str) -> str:
    """What an alert is about, in `lang`: its level ("Level 1 (counterfeit claim)"), else its
    complaint category."""
    label = SEVERITY_LABEL.get(payload.get("severity"))
    return translate(label, lang) if label else category_name(payload.get("category"), lang)


def _host(url: str) -> str:
    return urlsplit(url).netloc.rsplit("@", 1)[-1] or "?"  # never the path or credentials


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> None:
    """POST and raise `DeliveryError` unless the receiver answers 2xx."""
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            if not 200 <= resp.status < 300:
                raise DeliveryError(f"{_host(url)} answered HTTP {resp.status}")
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"{_host(url)} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):  # a slow receiver is not a missing one
            raise DeliveryError(f"{_host(url)} timed out: no answer within {timeout:g} s") \
                from None
        raise DeliveryError(f"{_host(url)} unreachable ({type(reason).__name__})") from None


class DeliveryError(Exception):
    """One failed delivery attempt; the message holds no secret."""


def send_email(settings: AlertSettings, payload: dict, idempotency_key: str) -> None:
    """One alert e-mail over SMTP (smtp:// with STARTTLS when offered, smtps:// for TLS)."""
    import smtplib
    from email.message import EmailMessage
    from urllib.parse import unquote

    url = urlsplit(settings.smtp_url)
    msg = EmailMessage()
    lang = settings.lang or ui_language()
    event = EVENT_LABEL.get(payload.get("event"))
    level = translate(event, lang) if event else alert_level(payload, lang)
    product = payload.get("product_id") or translate("unknown product", lang)
    msg["Subject"] = f"[review-monitor] {level}: {product}"
    msg["From"] = settings.email_from
    msg["To"] = settings.email_to
    msg["Message-ID"] = f"<{idempotency_key}@review-monitor>"  # lets mail systems drop repeats
    text = slack_message(payload, settings.personal_data, lang=lang,
                         tz=settings.team_tz)["text"]
    if not settings.personal_data and payload.get("evidence"):
        from .replies import redact_personal_data

        payload = {**payload, "evidence": redact_personal_data(payload["evidence"])}
    msg.set_content(text.replace("*", "") + "\n\n"
                    + json.dumps(payload, ensure_ascii=False, indent=2))
    cls = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    try:
        with cls(url.hostname or "127.0.0.1", url.port or (465 if url.scheme == "smtps" else 25),
                 timeout=settings.timeout_s) as smtp:
            if url.scheme == "smtp":
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls()
                    smtp.ehlo()
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {url.hostname} refused or unreachable "
                            f"({type(exc).__name__})") from None


def deliver_one(alert, settings: AlertSettings, post: Callable = post_json) -> None:
    url = settings.url_for(alert.channel)
    if not url:
        needs = {"slack": "MONITOR_SLACK_WEBHOOK_URL", "email": "MONITOR_SMTP_URL and "
                 "MONITOR_ALERT_EMAIL_TO"}.get(alert.channel, "MONITOR_WEBHOOK_URL")
        raise DeliveryError(f"channel '{alert.channel}' is not configured (set {needs})")
    payload = json.loads(alert.payload)
    if alert.channel == "email":
        send_email(settings, payload, alert.idempotency_key)
        return
    if alert.channel == "slack":
        body = json.dumps(slack_message(payload, settings.personal_data, lang=settings.lang,
                                        tz=settings.team_tz), ensure_ascii=False).encode()
        headers = {}
    else:
        body = json.dumps({**payload, "idempotency_key": alert.idempotency_key},
                          ensure_ascii=False, sort_keys=True).encode()
        headers = {IDEMPOTENCY_HEADER: alert.idempotency_key}
        if settings.webhook_secret:
            headers[SIGNATURE_HEADER] = sign(body, settings.webhook_secret)
    post(url, body, headers, settings.timeout_s)


def send_pending(store: Store, settings: AlertSettings | None = None, *,
                 now: datetime | None = None, post: Callable = post_json) -> SendSummary:
    """Try every due pending alert once; record delivered / retry-later / dead."""
    settings = settings or AlertSettings.from_env()
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    summary = SendSummary()
    for alert in store.due_alerts(now):
        # held for as long as one attempt may take from now (the timeout applies per socket
        # operation, hence twice it); a sender that dies holding it delays the alert that much
        started = max(now, datetime.now(timezone.utc).replace(tzinfo=None))
        if not store.claim_alert(alert.id, now, started + timedelta(
                seconds=2 * settings.timeout_s + 5)):
            continue  # another sender took it a moment ago
        try:
            deliver_one(alert, settings, post)
        except DeliveryError as exc:
            attempts = alert.attempts + 1
            give_up = attempts >= settings.max_attempts
            delay = min(settings.backoff_cap_s, settings.backoff_s * 2 ** (attempts - 1))
            store.record_delivery(alert.id, delivered=False, now=now, error=str(exc),
                                  retry_at=now + timedelta(seconds=delay), give_up=give_up)
            if give_up:
                summary.dead += 1
            else:
                summary.retrying += 1
        else:
            store.record_delivery(alert.id, delivered=True, now=now)
            summary.delivered += 1
    return summary


@dataclass
class AlertRound:
    """What one alert round did; `failed` says which scans failed and why (the others ran)."""

    escalated: int = 0
    spikes: int = 0
    late_follow_ups: int = 0
    sent: SendSummary | None = None
    failed: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The round as the CLI reports it (nothing for a quiet round)."""
        out = list(self.failed)
        if self.escalated:
            out.append(f"cases: {self.escalated} escalated (first-response deadline passed)")
        if self.spikes:
            out.append(f"spikes: {self.spikes} alerts queued")
        if self.late_follow_ups:
            out.append(f"follow-ups: {self.late_follow_ups} overdue, alerts queued")
        return out


def alert_round(store: Store, policy: "CasePolicy", settings: AlertSettings | None = None, *,
                scan: bool = True, now: datetime | None = None) -> AlertRound:
    """One round of `monitor alerts send`, `monitor serve-alerts` and the API's alert loop:
    escalate overdue cases, queue spike and overdue follow-up alerts (with `scan`), then
    deliver what is queued. A failing scan is recorded and never holds back the others or the
    delivery; a failing delivery raises."""
    result = AlertRound()
    if scan:
        for name, step, field_name in (
                ("overdue scan", store.escalate_overdue, "escalated"),
                ("spike scan", store.queue_spike_alerts, "spikes"),
                ("follow-up scan", store.queue_follow_up_alerts, "late_follow_ups")):
            try:
                setattr(result, field_name, step(policy, now=now))
            except Exception as exc:  # noqa: BLE001  recorded; the round goes on
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                result.failed.append(f"{name} failed: {first}")
    result.sent = send_pending(store, settings, now=now)
    return result
