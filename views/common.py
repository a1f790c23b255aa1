"""Helpers shared by the dashboard pages: cached access to the store, names, filters."""

from __future__ import annotations

import os
from datetime import timedelta

import polars as pl
import streamlit as st

from monitor.cases import (AFTER_REPLY_STATES, CASE_STATES, DEFAULT_SLA_HOURS, LEVEL_CATEGORY,
                           TIME_WORDS, level_names, parse_sla_hours)
from monitor.i18n import UI_LANGUAGES, translate, ui_language
from monitor.schema import ALL_CATEGORIES, CHANNELS, TIER_RANK
from monitor.settings import Settings
from monitor.store import Store

CATEGORIES = list(ALL_CATEGORIES)
# The words the package writes into the tables the team reads (categories, case states,
# follow-up kinds and states, alert states and channels, spike rules, buyer tiers, review
# channels, sentiment), shown through the catalog; `words` maps a column of them.
WORDS: dict[str, str] = {w: w for w in (
    *ALL_CATEGORIES, *CASE_STATES, "done", "overdue", "due", "planned", "pending", "delivered",
    "dead", "webhook", "slack", "email", "rate", "cluster", *TIER_RANK, *CHANNELS, "negative",
    "neutral", "positive")} | {"improvement_report": "improvement report", "try_again": "try again"}


def word(value: str | None) -> str:
    """One of WORDS in the team's language (anything else as it is)."""
    return t(WORDS[value]) if value in WORDS else (value or "")


def words(column: str) -> pl.Expr:
    """A column of WORDS in the team's language."""
    return pl.col(column).replace({w: t(text) for w, text in WORDS.items()})


def table(frame: pl.DataFrame, **options) -> None:
    """st.dataframe with "—" in empty cells, where the grid would print "None": a date or number
    column with gaps is shown as text, in the format its column_config asked for."""
    config = dict(options.pop("column_config", None) or {})
    filled = []
    for name, dtype in frame.schema.items():
        if not frame[name].null_count() or name in config and config[name] is None:
            continue
        shown = config.get(name)
        fmt = (shown.get("type_config") or {}).get("format") if isinstance(shown, dict) else None
        column = pl.col(name)
        if dtype == pl.String:
            text = column
        elif dtype.is_temporal():
            text = column.dt.strftime("%Y-%m-%d" if dtype == pl.Date else "%Y-%m-%d %H:%M")
        elif fmt == "percent":
            text = column.map_elements(lambda v: f"{v:.0%}", return_dtype=pl.String)
        elif fmt and fmt.startswith("%"):
            text = column.map_elements(lambda v, f=fmt: f % v, return_dtype=pl.String)
        else:
            text = column.cast(pl.String)
        filled.append(text.fill_null("—"))
        if isinstance(shown, dict) and dtype != pl.String:
            config[name] = shown.get("label")  # now a text column: only its label still applies
    st.dataframe(frame.with_columns(filled), column_config=config, **options)


# Month and day names on time axes and tooltips (Vega's own are English): d3 time locales.
TIME_LOCALES = {"zh": {
    "dateTime": "%x %A %X", "date": "%Y/%-m/%-d", "time": "%H:%M:%S", "periods": ["上午", "下午"],
    "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
    "shortDays": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
    "months": ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月",
               "十一月", "十二月"],
    "shortMonths": [f"{m}月" for m in range(1, 13)]}}


def chart(spec) -> None:
    """st.altair_chart over the page's width, its dates in the team's language."""
    locale = TIME_LOCALES.get(ui_lang())
    st.altair_chart(spec.configure(locale={"time": locale}) if locale else spec,
                    width="stretch")


def time_words() -> dict[str, str]:
    """How deadlines read ("4 h left") in the team's language."""
    return {k: t(v) for k, v in TIME_WORDS.items()}


def severity_names() -> dict[int, str]:
    """Level names with the deadlines this deployment promises (`MONITOR_SLA_HOURS`)."""
    try:
        hours = parse_sla_hours(os.environ.get("MONITOR_SLA_HOURS"))
    except ValueError as exc:
        st.warning(t("{error}: the default deadlines apply.", error=exc))
        hours = DEFAULT_SLA_HOURS
    return level_names(hours, names={lvl: t(cat) for lvl, cat in LEVEL_CATEGORY.items()},
                       words=time_words())


def ui_lang() -> str:
    """The team's language for this browser session: the sidebar's choice, else
    MONITOR_UI_LANG (English by default)."""
    return st.session_state.get("ui_lang") or ui_language()


def t(text: str, **values) -> str:
    """A UI text in the team's language (monitor/locale catalogs; English where missing), with
    `values` filled into its {fields}."""
    said = translate(text, ui_lang())
    return said.format(**values) if values else said


def language_switch() -> None:
    """The sidebar's language choice, for this browser session only."""
    langs = list(UI_LANGUAGES)
    current = ui_lang()
    choice = st.sidebar.selectbox("Language / 语言", langs, index=langs.index(current),
                                  format_func=UI_LANGUAGES.get, key="ui_lang_choice")
    if choice != current:
        st.session_state["ui_lang"] = choice
        st.rerun()


def settings() -> Settings:
    return Settings.from_env()


@st.cache_resource
def get_store(url: str) -> Store:
    return Store(url)


@st.cache_resource(show_spinner=False)
def _analyzer():
    from monitor.scoring import create_analyzer

    return create_analyzer()


def get_analyzer():
    """The scoring model, loaded once per dashboard process (only pages that embed need it)."""
    with st.spinner(t("Loading the model…")):
        return _analyzer()


@st.cache_data(ttl=30, show_spinner=False)
def load_queue(url: str, products: tuple[str, ...], categories: tuple[str, ...]) -> pl.DataFrame:
    return get_store(url).response_queue(product=products or None, category=categories or None)


@st.cache_data(ttl=30, show_spinner=False)
def load_after_reply(url: str, products: tuple[str, ...], categories: tuple[str, ...]
                     ) -> pl.DataFrame:
    """Cases past their first reply that an agent can still act on (replied, resolved)."""
    return get_store(url).response_queue(product=products or None, category=categories or None,
                                         states=AFTER_REPLY_STATES)


@st.cache_data(ttl=30, show_spinner=False)
def load_counts(url: str, products: tuple[str, ...], categories: tuple[str, ...]) -> dict:
    return get_store(url).queue_counts(product=products or None, category=categories or None)


def weeks_back(store: Store, weeks: int | None):
    """The start of the last `weeks` weeks of data, counted back from the newest review (so an
    imported history still shows); None for all of it."""
    if weeks is None:
        return None
    newest = store.newest_date()
    return newest - timedelta(weeks=weeks) if newest else None


@st.cache_data(ttl=30, show_spinner=False)
def load_reviews(url: str, products: tuple[str, ...] = (), weeks: int | None = None
                 ) -> pl.DataFrame:
    """Scored reviews; with `weeks`, only those of the last `weeks` weeks of data (counted back
    from the newest review, so an imported history still shows), which bounds what a chart reads."""
    store = get_store(url)
    since = weeks_back(store, weeks)
    return store.reviews(product=products or None, since=since)


@st.cache_data(ttl=60, show_spinner=False)
def load_products(url: str) -> list[str]:
    return get_store(url).products()


@st.cache_data(ttl=30, show_spinner=False)
def _facts(url: str, products: tuple[str, ...] = (), weeks: int | None = None) -> pl.DataFrame:
    store = get_store(url)
    since = weeks_back(store, weeks)
    return store.facts(product=products or None, since=since)


def load_facts(url: str, products: tuple[str, ...] = (), weeks: int | None = None
               ) -> pl.DataFrame:
    """Every stored review without its text, for KPIs, trends and spikes (`Store.facts`: a
    snapshot refreshed with what changed, so a million reviews load in well under a second)."""
    with st.spinner(t("Reading the review history…")):
        return _facts(url, products, weeks)


load_facts.clear = _facts.clear


@st.cache_data(ttl=30, show_spinner=False)
def load_cases(url: str, weeks: int | None = None) -> pl.DataFrame:
    """Cases, or those opened in the last `weeks` weeks of data (counted back from the newest
    review, like `load_facts`)."""
    store = get_store(url)
    since = weeks_back(store, weeks)
    return store.cases(since=since)


def top_products(weekly: pl.DataFrame, n: int = 10) -> pl.DataFrame:
    """The `n` products with the most negative reviews: a chart of thousands of lines says
    nothing, and its data would take longer to send than the page."""
    top = (weekly.group_by("product_id").agg(pl.col("negative").sum())
           .sort(["negative", "product_id"], descending=[True, False]).head(n)["product_id"])
    return weekly.filter(pl.col("product_id").is_in(top.implode()))


@st.cache_data(ttl=10, show_spinner=False)
def load_alerts(url: str) -> pl.DataFrame:
    return get_store(url).alerts()


def date_column_hint() -> str:
    """What to give files so that reviews have dates: the first names ingest recognises."""
    from monitor.ingest import COLUMN_ALIASES

    return t("import files with a date column ({names}, ...)",
             names=", ".join(COLUMN_ALIASES["date"][:3]))


def empty_store_message() -> None:
    st.info(t("No reviews yet. Upload an export on the **Import reviews** page, or load files "
              "with `monitor ingest FILE.csv` (`make run` loads the bundled sample)."))


def login_gate(notice: bool = True) -> str | None:
    """The signed-in role, or None after drawing the sign-in form. Checked by the entry script
    and again by every page (server-side), so no page can be reached around it."""
    from monitor.auth import ROLES, AuthSettings, role_for

    auth = AuthSettings.from_env()
    if not auth.enabled:
        st.session_state["role"] = "local"
        if notice:
            st.sidebar.warning(t("No login configured: serve this on localhost only. Set "
                                 "MONITOR_AGENT_PASSWORD and/or MONITOR_MANAGER_PASSWORD to "
                                 "require one."))
        return "local"
    role = st.session_state.get("role")
    if role in ROLES:
        return role
    st.title(t("Sign in"))
    with st.form("login"):
        password = st.text_input(t("Password"), type="password")
        submitted = st.form_submit_button(t("Sign in"))
    if submitted:
        role = role_for(password, auth)
        if role:
            st.session_state["role"] = role
            st.rerun()
        st.error(t("Wrong password."))
    return None


def role() -> str | None:
    return st.session_state.get("role")


def page_gate() -> None:
    """First line of every page: stop unless signed in; show who is and a way out."""
    if login_gate(notice=True) is None:
        st.stop()
    current = role()
    if current in ("agent", "manager"):
        st.sidebar.caption(t("Signed in as **{role}**",
                             role=t("brand manager") if current == "manager" else t("agent")))
        if st.sidebar.button(t("Sign out"), key="sign-out"):
            st.session_state.pop("role", None)
            st.rerun()
