"""Needs response: the service team's queue, reply drafts, case actions, follow-ups, spikes."""

from __future__ import annotations

from datetime import datetime, timezone

import altair as alt
import polars as pl
import streamlit as st

from monitor.aspects import ASPECT_NAMES, ASPECTS
from monitor.clock import team_times, time_text
from monitor.cases import (COUNTERFEIT_EVIDENCE, TRANSITIONS, CasePolicy, ConcurrentEditError,
                           TransitionError, time_left)
from monitor.export import queue_export, to_csv_bytes
from monitor.i18n import UI_LANGUAGES
from monitor.replies import (check_follow_up, check_reply, draft_follow_up, reply_for,
                             seller_templates)
from monitor.reply_gloss import PART_NAMES, DraftGloss, gloss_follow_up, gloss_reply
from monitor.schema import HUMAN_REVIEW_BELOW, human_review_below
from monitor.settings import Settings, redact_url
from monitor.store import StoreError
from monitor.trends import detect_spikes, negative_share
from monitor.auth import can
from views.common import (CATEGORIES, t, date_column_hint, empty_store_message, severity_names,
                          get_store, load_after_reply, load_alerts, load_cases, load_counts,
                          load_facts, load_products, load_queue, page_gate, role, time_words,
                          top_products, ui_lang, word, words, chart, table)


def render_reply(queue: pl.DataFrame, contact: str, unsure_below: float,
                 templates: dict[str, dict[str, str]]) -> None:
    """The chosen review (as plain text), its evidence, an editable reply draft and its checklist."""
    st.subheader(t("Reply draft"))
    rows = queue.head(200).to_dicts()
    names = severity_names()
    labels = [f"{names.get(r['severity'], word(r['category']))} · {r['product_id'] or '-'} · "
              f"{(r['text'] or '')[:70]}" for r in rows]
    choice = st.selectbox(t("Review"), range(len(rows)), format_func=lambda i: labels[i])
    review = rows[choice]
    left, right = st.columns(2)
    with left:
        given = (t("{stars}★ given", stars=f"{review['rating']:g}")
                 if review["rating"] is not None else t("no rating"))
        st.caption(" · ".join(part for part in (
            word(review["channel"]), review["marketplace"], review["lang"], given,
            t("{stars}★ predicted", stars=f"{review['stars_pred']:.1f}")) if part))
        if review["confidence"] is not None and review["confidence"] < unsure_below:
            st.warning(t("The model is unsure of this review (confidence {confidence}): read it "
                         "yourself before replying.", confidence=f"{review['confidence']:.2f}"))
        st.text(review["text"])  # buyer text is shown as text, never as Markdown or HTML
        if review["evidence"]:
            st.caption(t("Evidence"))
            st.code(review["evidence"], language=None, wrap_lines=True)
    with right:
        draft = reply_for(review, contact=contact, custom=templates)
        text = st.text_area(t("Public reply"), draft.text, height=180,
                            key=f"reply-{review['review_key']}")
        render_gloss(gloss_reply(text, review, ui_lang(), contact=contact, custom=templates))
        check = check_reply(text, contact=contact)
        render_checklist([(check.acknowledge, t("acknowledges the problem")),
                          (check.fix, t("states the fix or next step")),
                          (check.invite, t("invites the buyer to a private channel"))],
                         [t("Remove before posting: {problem}.", problem=t(problem))
                          for problem in check.problems], draft.lang, review["lang"])
    if review["case_id"] is not None and can(role(), "act"):
        render_case_actions(review)


def own_templates() -> dict[str, dict[str, str]]:
    """The seller's reply templates (`MONITOR_REPLY_TEMPLATES`); a broken file is a warning."""
    try:
        return seller_templates()
    except ValueError as exc:
        st.warning(t("{error}: the built-in templates are used.", error=exc))
        return {}


def render_gloss(gloss: DraftGloss) -> None:
    """Beside a draft in the buyer's language: what it says in the team's (its template parts
    still in it, translated), which parts the edits removed, and whether words were added."""
    if gloss.same_language:
        return
    with st.container(border=True):
        if not gloss.parts:
            st.caption(t("This draft comes from your own template: no translation of it is "
                         "known."))
            return
        st.caption(t("What the draft says, in {language}:", language=UI_LANGUAGES[gloss.lang]))
        st.text(gloss.text or "—")
        notes = []
        if gloss.missing:
            notes.append(t("no longer in the draft: {parts}",
                           parts=", ".join(t(PART_NAMES[p]) for p in gloss.missing)))
        if gloss.own_words:
            notes.append(t("words added to the draft are not translated"))
        if notes:
            st.caption(t("; ").join(notes))


def render_checklist(parts: list[tuple[bool, str]], problems: list[str],
                     drafted_in: str, buyer_lang: str | None) -> None:
    """What an (edited) message to a buyer holds, what it must lose, and its language."""
    yes, missing = t("yes"), t("missing")
    st.markdown("\n".join(f"- {f':green[**{yes}**]' if ok else f':red[**{missing}**]'} {what}"
                           for ok, what in parts))
    for problem in problems:
        st.error(problem)
    if drafted_in.split("-")[0] != buyer_lang:
        st.caption(t("No template in '{lang}' yet: drafted in English.", lang=buyer_lang))


def render_case_actions(review: dict) -> None:
    """Move the case along its workflow; a stale version (someone else was faster) is refused."""
    allowed = TRANSITIONS[review["case_state"]]
    cols = st.columns([2, 2, 3, 1])
    cols[0].markdown(t("**Case {case_id}** · {state}", case_id=review["case_id"],
                       state=word(review["case_state"])))
    if not allowed:
        return
    target = cols[1].selectbox(t("Move to"), allowed, key=f"to-{review['case_id']}",
                               format_func=word)
    note = cols[2].text_input(t("Note"), key=f"note-{review['case_id']}")
    if review["co_owner"] or review["assignee"]:
        owners = [x for x in (review["assignee"], review["co_owner"]) if x]
        cols[0].caption(t("owned by {owner}", owner=owners[0]) if len(owners) == 1 else
                        t("owned by {owner} and {co_owner}", owner=owners[0], co_owner=owners[1]))
    if review["category"] == "counterfeit":
        render_counterfeit_evidence(review)
    if cols[3].button(t("Apply"), key=f"apply-{review['case_id']}"):
        change_case(review["case_id"], lambda store, actor: store.transition_case(
            review["case_id"], target, actor=actor, expected_version=review["case_version"],
            note=note))


def render_after_reply(url: str, products: tuple[str, ...], categories: tuple[str, ...]) -> None:
    """Cases that got their first reply but are not closed: the agent resolves them (which plans
    the follow-ups), closes them, or escalates them again. Without this they would leave the
    page once replied to and never be finished."""
    cases = load_after_reply(url, products, categories)
    if cases.is_empty():
        return
    st.subheader(t("Replied and resolved cases"))
    st.caption(t("Resolve a case once the buyer's problem is fixed: that plans the 7-day "
                 "improvement report and the 30-day invitation to try again."))
    table(cases.select(
        "case_id", words("case_state").alias("state"),
        pl.col("severity").replace_strict(severity_names(), default="—", return_dtype=pl.String)
        .alias("level"), words("category"), "product_id", "lang", "assignee", words("tier"),
        "text"),
        hide_index=True, width="stretch", column_config={
            "case_id": t("case"), "state": t("state"), "level": t("level"),
            "category": t("category"), "product_id": t("product"), "lang": t("language"),
            "assignee": t("assignee"), "tier": t("buyer tier"),
            "text": st.column_config.TextColumn(t("review"), width="large")})
    if not can(role(), "act"):
        return
    rows = cases.to_dicts()
    pick = st.selectbox(t("Case"), range(len(rows)), key="after-reply-pick", format_func=lambda i: (
        f"#{rows[i]['case_id']} · {word(rows[i]['case_state'])} · {word(rows[i]['category'])} · "
        f"{rows[i]['product_id'] or '-'} · {(rows[i]['text'] or '')[:60]}"))
    render_case_actions(rows[pick])


def change_case(case_id: int, change) -> None:
    """Run one case change as the signed-in agent; a stale version or a move the workflow does
    not allow is shown, anything else refreshes the queue."""
    actor = st.session_state.get("agent_name") or "dashboard"
    try:
        change(get_store(Settings.from_env().db_url), actor)
    except ConcurrentEditError:
        st.warning(t("Case {case_id} was changed by someone else meanwhile; reload the page and "
                     "try again.", case_id=case_id))
    except TransitionError:
        st.error(t("Case {case_id} can no longer make that move (its state changed); reload the "
                   "page.", case_id=case_id))
    else:
        load_queue.clear()
        load_after_reply.clear()
        load_counts.clear()
        load_cases.clear()  # the Overview's response rate
        st.rerun()


def main() -> None:
    page_gate()
    settings = Settings.from_env()
    st.title(t("Needs response"))
    try:
        store = get_store(settings.db_url)
        stored = not store.is_empty()
        products_all = load_products(settings.db_url) if stored else []
    except StoreError as exc:
        st.error(t("Cannot open the review database: {error}", error=exc))
        return
    if not stored:
        empty_store_message()
        return

    with st.sidebar:
        st.header(t("Filters"))
        choose = t("Choose options")
        products = tuple(st.multiselect(t("Product"), products_all, placeholder=choose))
        categories = tuple(st.multiselect(t("Category"), CATEGORIES, format_func=word,
                                          placeholder=choose))
        aspects = tuple(st.multiselect(t("Complaint aspect"), ASPECTS, placeholder=choose,
                                       format_func=lambda a: t(ASPECT_NAMES[a])))
        only_unsure = st.checkbox(t("Only reviews the model is unsure of"),
                                  help=t("confidence below MONITOR_HUMAN_REVIEW_BELOW (0.5): "
                                         "read these yourself before replying"))
        if can(role(), "act"):
            st.text_input(t("Your name (for the case history)"), key="agent_name")
        st.caption(t("Database: {url}", url=redact_url(settings.db_url)))

    try:
        unsure_below = human_review_below()
    except ValueError as exc:
        st.warning(t("{error}; using {value}", error=exc, value=HUMAN_REVIEW_BELOW))
        unsure_below = HUMAN_REVIEW_BELOW
    queue = load_queue(settings.db_url, products, categories)
    if only_unsure:
        queue = queue.filter(pl.col("confidence") < unsure_below)
    if aspects:  # any of the chosen aspects
        queue = queue.filter(pl.any_horizontal(pl.col("aspects").list.contains(a)
                                               for a in aspects))
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    # the totals sit above the queue but are counted after it is on screen: on a big store
    # the agent sees the most urgent reviews first
    totals = st.container()
    templates = own_templates()  # read once per page: a broken file warns once

    if queue.is_empty():
        st.success(t("Nothing needs a response for these filters."))
    else:
        unsure = pl.col("confidence") < unsure_below
        clock = time_words()
        view = queue.select(
            pl.col("severity").replace_strict(severity_names(), default="—", return_dtype=pl.String)
            .alias("level"),
            pl.when(unsure).then(pl.lit(t("model unsure"))).otherwise(pl.lit("")).alias("check"),
            pl.col("due_at").map_elements(lambda d: time_left(d, now, clock),
                                          return_dtype=pl.String).alias("respond"),
            time_text("due_at", lang=ui_lang()).alias("due"),
            words("category"),
            pl.col("aspects").list.eval(pl.element().replace_strict(
                {a: t(name) for a, name in ASPECT_NAMES.items()}))
            .list.join(t(", ")).alias("aspects"),
            words("tier"), words("channel"), "product_id", "marketplace", "lang", "rating",
            "assignee",
            "escalation",
            pl.col("stars_pred").round(1), "date", "evidence", "text",
        )
        table(view, hide_index=True, width="stretch", column_config={
            "level": t("level"), "check": t("check"), "respond": t("respond"), "due": t("due by"),
            "category": t("category"), "aspects": t("aspects"), "tier": t("buyer tier"),
            "channel": t("channel"), "product_id": t("product"),
            "marketplace": t("marketplace"), "lang": t("language"), "rating": t("stars"),
            "assignee": t("assignee"), "escalation": t("escalation words"),
            "stars_pred": st.column_config.NumberColumn(t("predicted stars"), format="%.1f"),
            "date": st.column_config.DatetimeColumn(t("date"), format="YYYY-MM-DD HH:mm"),
            "evidence": st.column_config.TextColumn(t("evidence"), width="medium"),
            "text": st.column_config.TextColumn(t("review"), width="large"),
        })

        if can(role(), "export"):
            export = queue_export(queue, contact=settings.support_contact, custom=templates,
                                  lang=ui_lang())
            st.download_button(t("Export the queue with reply drafts (CSV)"), to_csv_bytes(export),
                               key="export-queue", file_name="needs-response.csv",
                               mime="text/csv")
    with totals:
        counts = load_counts(settings.db_url, products, categories)
        cols = st.columns(4)
        cols[0].metric(t("Need a response"), sum(counts.values()))
        for col, lvl in zip(cols[1:], (1, 2, 3)):
            col.metric(severity_names()[lvl], counts.get(lvl, 0))
        if queue.height < sum(counts.values()):
            st.caption(t("Showing the {count} most urgent; narrow the filters to see others.",
                         count=queue.height))
    if not queue.is_empty():
        render_reply(queue, settings.support_contact, unsure_below, templates)
    render_after_reply(settings.db_url, products, categories)

    render_follow_ups(settings.db_url, now, settings.support_contact, templates)
    reviews = load_facts(settings.db_url, products, weeks=26)  # spikes and the weekly chart
    st.subheader(t("Complaint spikes"))
    policy = CasePolicy.from_env()
    spikes = detect_spikes(reviews, k=policy.spike_k, min_count=policy.spike_min_count)
    if spikes.is_empty():
        st.caption(t("No spikes: no product had a burst of complaints of one kind."))
    else:
        st.caption(t("A day is a spike when a product's complaints of one category exceed the "
                     "previous 7 days' mean by {k} standard deviations (at least {min_count}), "
                     "or when 3 counterfeit, damage or delay complaints arrive within 7 days.",
                     k=f"{policy.spike_k:g}", min_count=policy.spike_min_count))
        table(spikes.head(20).with_columns(words("category"), words("rule")),
                     hide_index=True, width="stretch", column_config={
            "product_id": t("product"), "category": t("category"),
            "day": st.column_config.DateColumn(t("day")), "count": t("complaints"),
            "trailing_mean": st.column_config.NumberColumn(t("7-day mean"), format="%.1f"),
            "trailing_std": None, "last_7d": t("last 7 days"), "rule": t("rule")})

    st.subheader(t("Weekly negative share per product"))
    weekly = negative_share(reviews, every="1w")
    if weekly.is_empty():
        st.caption(t("These reviews carry no date, so there is nothing to show per week: "
                     "{hint}.", hint=date_column_hint()))
    else:
        st.caption(t("The last 26 weeks of reviews; the Overview page shows the whole history."))
        if weekly["product_id"].n_unique() > 10:
            st.caption(t("The 10 products with the most negative reviews; pick products in the "
                         "sidebar to see others."))
            weekly = top_products(weekly)
        render_weekly(weekly)
    render_alerts(settings.db_url)


def render_counterfeit_evidence(review: dict) -> None:
    """What the agent must gather before answering a counterfeit claim, saved on the case."""
    have = set(filter(None, (review["evidence_checklist"] or "").split(",")))
    with st.expander(t("Counterfeit claim: evidence checklist"), expanded=True):
        picked = [item for item, label in COUNTERFEIT_EVIDENCE.items()
                  if st.checkbox(t(label), value=item in have,
                                 key=f"ev-{review['case_id']}-{item}")]
        if st.button(t("Save evidence"), key=f"ev-save-{review['case_id']}"):
            change_case(review["case_id"], lambda store, actor: store.record_evidence(
                review["case_id"], picked, actor=actor, expected_version=review["case_version"]))


def render_follow_ups(url: str, now: datetime, contact: str,
                      templates: dict[str, dict[str, str]]) -> None:
    """Improvement reports (7 days) and try-again invitations (30 days) after resolved cases:
    the task list, and for the chosen one a message draft in the buyer's language."""
    tasks = get_store(url).follow_ups(now).filter(pl.col("status") != "done")
    st.subheader(t("Follow-ups"))
    if tasks.is_empty():
        st.caption(t("No open follow-ups. Resolving a case plans an improvement report within 7 "
                     "days and a try-again invitation within 30 days, at the buyer's local "
                     "morning."))
        return
    table(team_times(tasks.select(words("status"), words("kind"), "case_id", "product_id", "lang",
                                  "contact_at", "due_at"), ("contact_at", "due_at"),
                     lang=ui_lang()), hide_index=True, width="stretch", column_config={
        "status": t("status"), "kind": t("follow-up"), "case_id": t("case"),
        "product_id": t("product"), "lang": t("language"), "contact_at": t("contact at"),
        "due_at": t("due by")})
    rows = tasks.to_dicts()
    pick = st.selectbox(t("Follow-up"), range(len(rows)), key="follow-up-pick", format_func=lambda i: (
        t("#{id} {kind} · case {case_id} · {lang} · {status}", id=rows[i]["id"],
          kind=word(rows[i]["kind"]), case_id=rows[i]["case_id"], lang=rows[i]["lang"],
          status=word(rows[i]["status"]))))
    task = rows[pick]
    left, right = st.columns(2)
    with left:
        change = st.text_area(
            t("What we changed (write it in the buyer's language: {lang})", lang=task["lang"]),
            task["resolution_note"], height=100,
            key=f"change-{task['id']}",
            help=t("Starts from the note written when the case was resolved."))
    with right:
        draft = draft_follow_up(task["kind"], task["lang"], contact=contact, change=change,
                                custom=templates, marketplace=task.get("marketplace"))
        # a new "what we changed" gives a new draft; edits to the draft itself stay until then
        text = st.text_area(t("Message to the buyer"), draft.text, height=180,
                            key=f"follow-up-{task['id']}-{abs(hash(change))}")
        render_gloss(gloss_follow_up(text, task, ui_lang(), contact=contact, change=change,
                                     custom=templates))
        check = check_follow_up(text, contact=contact)
        render_checklist([(check.says_what_changed,
                           t("says what changed because of the complaint")),
                          (check.invite, t("says how to reach us"))],
                         [t("Remove before sending: {problem}.", problem=t(problem))
                          for problem in check.problems], draft.lang, task["lang"])
    if can(role(), "act") and st.button(t("Mark done"), key="follow-up-done"):
        get_store(url).complete_follow_up(task["id"], actor=st.session_state.get("agent_name") or
                                          "dashboard")
        st.rerun()


def render_alerts(url: str) -> None:
    alerts = load_alerts(url)
    with st.expander(t("Alerts log ({count})", count=alerts.height)):
        if alerts.is_empty():
            st.caption(t("No alerts yet. Set MONITOR_WEBHOOK_URL or MONITOR_SLACK_WEBHOOK_URL "
                         "before ingesting; level-1 and level-2 cases then alert, and "
                         "`monitor alerts send` delivers them."))
        else:
            table(team_times(alerts.head(200).with_columns(words("channel"), words("status")),
                             ("created_at", "delivered_at", "next_attempt_at"), lang=ui_lang()),
                  hide_index=True, width="stretch", column_config={
                "id": t("alert"), "case_id": t("case"), "channel": t("channel"),
                "status": t("status"), "attempts": t("attempts"),
                "created_at": t("created at"), "delivered_at": t("delivered at"),
                "next_attempt_at": t("next attempt at"), "last_error": t("last error")})


def render_weekly(weekly: pl.DataFrame) -> None:
    if weekly.is_empty():
        st.info(t("No dated reviews to chart yet."))
    else:
        # one small panel per product: six lines on one axis are unreadable
        panels = (alt.Chart(weekly.to_pandas()).mark_line(point=True).encode(
            x=alt.X("period:T", title=None),
            y=alt.Y("negative_share:Q", title=t("negative share"), axis=alt.Axis(format="%")),
            color=alt.Color("product_id:N", legend=None),
            tooltip=[alt.Tooltip("product_id:N", title=t("product")),
                     alt.Tooltip("period:T", title=t("week of")),
                     alt.Tooltip("reviews:Q", title=t("reviews")),
                     alt.Tooltip("negative:Q", title=t("negative reviews")),
                     alt.Tooltip("negative_share:Q", title=t("negative share"), format=".0%")],
        ).properties(height=140, width=300)
            .facet(facet=alt.Facet("product_id:N", title=None), columns=3))
        chart(panels)


main()
