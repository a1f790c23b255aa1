"""Overview for brand managers: headline figures with deltas, trends, severity, languages."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from monitor.trends import (COMPLAINT_LEVELS, complaint_levels, follow_up_summary,
                            headline_figures, period_kpis, period_trends, response_trends)
from views.common import (t, date_column_hint, empty_store_message, get_store, load_cases,
                          load_facts, page_gate, settings, top_products, words, chart, table)

st.title(t("Overview"))
page_gate()
reviews = load_facts(settings().db_url)
if reviews.is_empty():
    empty_store_message()
    st.stop()

LABELS = {"reviews": (t("Reviews"), "{:.0f}", "normal"),
          "negative_share": (t("Negative share"), "{:.0%}", "inverse"),
          "stars_pred": (t("Predicted stars"), "{:.2f}", "normal"),
          "needs_response": (t("Need a response"), "{:.0f}", "inverse"),
          "severe": (t("Severe complaints"), "{:.0f}", "inverse")}
undated = int(reviews["date"].is_null().sum())
kpis = period_kpis(reviews)
if kpis:
    st.caption(t("Last 7 days up to {date}, against the 7 days before.",
                 date=f"{reviews['date'].max():%Y-%m-%d}"))
    for col, (key, (label, fmt, color)) in zip(st.columns(5), LABELS.items()):
        cur, prev = kpis[key]
        delta = cur - prev
        col.metric(label, fmt.format(cur), (fmt.format(delta) if key != "negative_share"
                                            else t("{delta} pts", delta=f"{delta * 100:+.1f}")),
                   delta_color=color)
    if undated:
        st.caption(t("{undated} of {total} stored reviews carry no date: they are left out of the "
                     "figures and charts over time.", undated=f"{undated:,}",
                     total=f"{reviews.height:,}"))
else:
    # exports without a date column (scraped listings, research sets) still get their figures
    st.info(t("The {total} stored reviews carry no date, so nothing here is shown over time: "
              "{hint} to see weeks and changes. Figures over all of them:",
              total=f"{reviews.height:,}", hint=date_column_hint()))
    figures = headline_figures(reviews)
    for col, (key, (label, fmt, _)) in zip(st.columns(5), LABELS.items()):
        col.metric(label, fmt.format(figures[key]))

weekly = period_trends(reviews, by="product", every="1w").with_columns(
    pl.col("product_id").fill_null(t("(no product id)")))
if kpis:
    st.subheader(t("Negative share per week"))
    if weekly["product_id"].n_unique() > 10:
        st.caption(t("The 10 products with the most negative reviews; the Product page shows any "
                     "one."))
        weekly = top_products(weekly)
    chart(alt.Chart(weekly.to_pandas()).mark_line(point=True).encode(
        x=alt.X("period:T", title=None),
        y=alt.Y("negative_share:Q", title=t("negative share"), axis=alt.Axis(format="%")),
        color=alt.Color("product_id:N", title=t("product")),
        tooltip=[alt.Tooltip("product_id:N", title=t("product")),
                 alt.Tooltip("period:T", title=t("week of")),
                 alt.Tooltip("reviews:Q", title=t("reviews")),
                 alt.Tooltip("negative_share:Q", title=t("negative share"), format=".0%")]))

left, right = st.columns(2)
with left:
    levels = {f"severity_{n}": t(label) for n, label in COMPLAINT_LEVELS.items()}
    colors = alt.Scale(range=["#b2182b", "#ef8a62", "#fddbc7"])
    if kpis:
        st.subheader(t("Severity mix per week"))
        sev = (weekly.group_by("period").agg(pl.col(c).sum().alias(name)
                                             for c, name in levels.items())
               .unpivot(index="period", variable_name="level", value_name="complaints"))
        chart(alt.Chart(sev.to_pandas()).mark_bar().encode(
            x=alt.X("period:T", title=None),
            y=alt.Y("complaints:Q", stack=True, title=t("complaints")),
            color=alt.Color("level:N", scale=colors, title=t("level")),
            tooltip=[alt.Tooltip("period:T", title=t("week of")),
                     alt.Tooltip("level:N", title=t("level")),
                     alt.Tooltip("complaints:Q", title=t("complaints"))]))
    else:
        st.subheader(t("Complaints by level"))
        sev = complaint_levels(reviews).with_columns(
            pl.col("level").replace({label: t(label) for label in COMPLAINT_LEVELS.values()}))
        chart(alt.Chart(sev.to_pandas()).mark_bar().encode(
            x=alt.X("level:N", title=None, sort=None),
            y=alt.Y("complaints:Q", title=t("complaints")),
            color=alt.Color("level:N", scale=colors, legend=None),
            tooltip=[alt.Tooltip("level:N", title=t("level")),
                     alt.Tooltip("complaints:Q", title=t("complaints"))]))
with right:
    st.subheader(t("Languages and marketplaces"))
    mix = (reviews.group_by("lang").agg(pl.len().alias("reviews"),
                                        (pl.col("sentiment") == "negative").mean()
                                        .alias("negative_share"))
           .sort("reviews", descending=True))
    table(mix, hide_index=True, width="stretch", column_config={
        "lang": t("language"), "reviews": t("reviews"),
        "negative_share": st.column_config.ProgressColumn(t("negative share"), format="percent",
                                                          min_value=0.0, max_value=1.0)})
    markets = (reviews.with_columns(pl.col("marketplace").fill_null(t("(not given)")))
               .group_by("marketplace")
               .agg(pl.len().alias("reviews"),
                    (pl.col("sentiment") == "negative").mean().alias("negative_share"))
               .sort("reviews", descending=True))
    table(markets, hide_index=True, width="stretch", column_config={
        "marketplace": t("marketplace"), "reviews": t("reviews"),
        "negative_share": st.column_config.ProgressColumn(t("negative share"), format="percent",
                                                          min_value=0.0, max_value=1.0)})

st.subheader(t("Responses"))
cases = load_cases(settings().db_url, weeks=8)
if cases.is_empty():
    st.caption(t("No cases in the last 8 weeks of data: reviews that need a response open "
                 "cases; answering one records its first response time."))
else:
    answered = cases["first_response_at"].is_not_null()
    hours = ((cases["first_response_at"] - cases["opened_at"]).dt.total_seconds() / 3600)
    cols = st.columns(3)
    cols[0].metric(t("Cases opened (8 weeks)"), cases.height)
    cols[1].metric(t("Response rate"), f"{answered.mean():.0%}")
    median = hours.median()
    cols[2].metric(t("Median time to first response"),
                   "—" if median is None else t("{hours} h", hours=f"{median:.1f}"))
    weekly_responses = response_trends(cases, by="category", every="1w")
    table(weekly_responses.with_columns(words("category")), hide_index=True,
                 width="stretch", column_config={
        "category": t("category"), "period": st.column_config.DateColumn(t("week of")),
        "cases": t("cases"), "answered": t("answered"),
        "response_rate": st.column_config.ProgressColumn(t("response rate"), format="percent",
                                                         min_value=0.0, max_value=1.0),
        "median_hours_to_first_response": st.column_config.NumberColumn(
            t("median hours to first response"), format="%.1f")})

st.subheader(t("Follow-ups"))
follow_ups = get_store(settings().db_url).follow_ups()
if follow_ups.is_empty():
    st.caption(t("No follow-ups yet: resolving a case plans an improvement report (7 days) and "
                 "a try-again invitation (30 days) to the buyer."))
else:
    st.caption(t("Whether the promised follow-ups reach buyers by their due date."))
    table(follow_up_summary(follow_ups).with_columns(words("kind")), hide_index=True,
                 width="stretch", column_config={
        "kind": t("follow-up"), "planned": t("planned"), "sent_on_time": t("sent on time"),
        "sent_late": t("sent late"), "overdue": t("overdue, not sent"),
        "on_time_share": st.column_config.ProgressColumn(t("on time"), format="percent",
                                                         min_value=0.0, max_value=1.0)})

st.subheader(t("Resolution rate"))
outcomes = get_store(settings().db_url).outcome_rates()
if outcomes.is_empty():
    st.caption(t("No outcomes yet: when a buyer with a case reviews the same product again, "
                 "whether the rating went up is recorded here, by category and marketplace."))
else:
    table(outcomes.with_columns(words("category")), hide_index=True, width="stretch",
                 column_config={
        "category": t("category"), "marketplace": t("marketplace"),
        "cases_with_outcome": t("cases with an outcome"),
        "improved_share": st.column_config.ProgressColumn(t("rating went up"), format="percent",
                                                          min_value=0.0, max_value=1.0)})
