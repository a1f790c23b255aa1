"""Product drill-down: one product's trend, complaints, rating/text mismatches and examples."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from monitor.export import to_csv_bytes
from monitor.themes import improvement_report
from monitor.aspects import ASPECT_NAMES
from monitor.schema import COMPLAINT_CATEGORIES
from monitor.trends import aspect_counts, mismatches, period_trends
from monitor.auth import can
from views.common import (t, date_column_hint, empty_store_message, get_analyzer, get_store,
                          load_reviews, page_gate, role, settings, ui_lang, word, words, chart,
                          table)

st.title(t("Product"))
page_gate()
url = settings().db_url
products = get_store(url).products()
if not products:
    if get_store(url).count():
        st.info(t("The stored reviews carry no product id, so there is nothing to drill into. "
                  "Give the file a product_id / asin / sku column to compare products."))
    else:
        empty_store_message()
    st.stop()
product = st.selectbox(t("Product"), products)
reviews = load_reviews(url, (product,))

weekly = period_trends(reviews, by="product", every="1w")
cols = st.columns(4)
cols[0].metric(t("Reviews"), reviews.height)
cols[1].metric(t("Negative share"), f"{(reviews['sentiment'] == 'negative').mean():.0%}")
cols[2].metric(t("Predicted stars"), f"{reviews['stars_pred'].mean():.2f}")
cols[3].metric(t("Severe complaints"), int(reviews["severity"].is_not_null().sum()))

st.subheader(t("Weekly volume and negative share"))
undated = int(reviews["date"].is_null().sum())
if weekly.is_empty():
    st.caption(t("This product's {total} reviews carry no date, so there is nothing to show per "
                 "week: {hint} to follow it over time.", total=f"{reviews.height:,}",
                 hint=date_column_hint()))
else:
    if undated:
        st.caption(t("{undated} of its {total} reviews carry no date and are left out of this "
                     "chart.", undated=f"{undated:,}", total=f"{reviews.height:,}"))
    base = alt.Chart(weekly.to_pandas()).encode(x=alt.X("period:T", title=None))
    chart(alt.layer(
        base.mark_bar(opacity=0.35).encode(y=alt.Y("reviews:Q", title=t("reviews"))),
        base.mark_line(point=True, color="#b2182b").encode(
            y=alt.Y("negative_share:Q", title=t("negative share"), axis=alt.Axis(format="%"))),
    ).resolve_scale(y="independent"))

st.subheader(t("Complaints by category"))
by_cat = (reviews.filter(pl.col("category").is_in(COMPLAINT_CATEGORIES))
          .group_by("category").agg(pl.len().alias("reviews")).sort("reviews", descending=True))
table(by_cat.with_columns(words("category")), hide_index=True,
             column_config={"category": t("category"), "reviews": t("reviews")})

st.subheader(t("What buyers complain about"))
by_aspect = aspect_counts(reviews, by="product_id")
if by_aspect.is_empty():
    st.caption(t("No complaint aspect in this product's reviews (reviews scored before aspects "
                 "existed show none until they are scored again)."))
else:
    named = by_aspect.with_columns(pl.col("aspect").replace_strict(
        {a: t(name) for a, name in ASPECT_NAMES.items()}).alias("name"))
    chart(alt.Chart(named.to_pandas()).mark_bar().encode(
        x=alt.X("reviews:Q", title=t("reviews")), y=alt.Y("name:N", sort="-x", title=None),
        tooltip=[alt.Tooltip("name:N", title=t("aspect")),
                 alt.Tooltip("reviews:Q", title=t("reviews"))]))
    flags = [f"aspect_{a}" for a in by_aspect["aspect"].head(5)]
    if not weekly.is_empty():
        st.caption(t("Per week, the five aspects raised most:"))
        per_week = (weekly.select("period", *flags)
                    .unpivot(index="period", variable_name="aspect", value_name="reviews")
                    .with_columns(pl.col("aspect").str.strip_prefix("aspect_")
                                  .replace_strict({a: t(n) for a, n in ASPECT_NAMES.items()})))
        chart(alt.Chart(per_week.to_pandas()).mark_line(point=True).encode(
            x=alt.X("period:T", title=None), y=alt.Y("reviews:Q", title=t("reviews")),
            color=alt.Color("aspect:N", title=None),
            tooltip=[alt.Tooltip("aspect:N", title=t("aspect")),
                     alt.Tooltip("period:T", title=t("week of")),
                     alt.Tooltip("reviews:Q", title=t("reviews"))]))

st.subheader(t("Rating and text disagree"))
mismatch = mismatches(reviews)
if mismatch.is_empty():
    st.caption(t("No review's stars contradict its text."))
else:
    table(mismatch.select("date", "rating", words("sentiment"), "confidence", "lang",
                                 "text"),
                 hide_index=True, width="stretch", column_config={
        "date": t("date"), "rating": t("stars"), "sentiment": t("sentiment"),
        "confidence": t("confidence"), "lang": t("language"), "text": t("review")})

st.subheader(t("Recent negative reviews") if undated < reviews.height
             else t("Negative reviews"))
negatives = reviews.filter(pl.col("sentiment") == "negative").sort("date", descending=True,
                                                                   nulls_last=True)
for row in negatives.head(5).iter_rows(named=True):
    st.caption(f"{row['date']:%Y-%m-%d} · {row['marketplace'] or ''} · {row['lang']} · "
               f"{word(row['category'])}" if row["date"]
               else f"{row['lang']} · {word(row['category'])}")
    st.text(row["text"])  # buyer text as plain text, never Markdown or HTML

st.subheader(t("Improvement themes"))
st.caption(t("Groups this product's negative reviews by meaning (any language) into themes with "
             "counts, trend and examples: the basis of an improvement report to share."))
if st.button(t("Find themes"), key="themes"):
    try:
        with st.spinner(t("Embedding the negative reviews…")):
            st.session_state[f"themes-{product}"] = improvement_report(
                reviews, get_analyzer().encoder.embed, product)
    except (OSError, ValueError) as exc:  # the model could not load: say what to fix
        st.error(t("Themes need the scoring model, which did not load: {error}", error=exc))
report = st.session_state.get(f"themes-{product}")
if report is not None:
    table(report.themes.drop("examples").with_columns(words("top_category")),
                 hide_index=True, width="stretch", column_config={
        "theme": t("theme"), "label": t("what it is about"), "reviews": t("reviews"),
        "first_half": t("first half"), "second_half": t("second half"),
        "top_category": t("main category")})
    if can(role(), "export"):
        st.download_button(t("Download the improvement report (Markdown)"),
                           report.markdown(ui_lang()), key="export-report",
                           file_name=f"{product}-improvement-report.md", mime="text/markdown")
        st.download_button(t("Download it as a web page (open, fill in, print to PDF)"),
                           report.html(ui_lang()), file_name=f"{product}-improvement-report.html",
                           mime="text/html", key="export-report-html")

if can(role(), "export"):
    st.download_button(t("Export this product's scored reviews (CSV)"), to_csv_bytes(reviews),
                       file_name=f"{product}-reviews.csv", mime="text/csv", key="export-product")
