"""Helpers shared by the dashboard pages: cached access to the store, names, filters."""

from __future__ import annotations

import polars as pl
import streamlit as st

from monitor.settings import Settings
from monitor.store import Store

SEVERITY_NAMES = {1: "L1 counterfeit (1 h)", 2: "L2 damage", 3: "L3 delay"}
CATEGORIES = ["counterfeit", "damage", "delay", "other", "none"]


def settings() -> Settings:
    return Settings.from_env()


@st.cache_resource
def get_store(url: str) -> Store:
    return Store(url)


@st.cache_data(ttl=30, show_spinner=False)
def load_queue(url: str, products: tuple[str, ...], categories: tuple[str, ...]) -> pl.DataFrame:
    return get_store(url).response_queue(product=products or None, category=categories or None)


@st.cache_data(ttl=30, show_spinner=False)
def load_reviews(url: str, products: tuple[str, ...] = ()) -> pl.DataFrame:
    return get_store(url).reviews(product=products or None)


@st.cache_data(ttl=10, show_spinner=False)
def load_alerts(url: str) -> pl.DataFrame:
    return get_store(url).alerts()


def empty_store_message() -> None:
    st.info("No reviews yet. Load some with `monitor ingest FILE.csv` "
            "(or run `make run`, which loads the bundled sample).")
