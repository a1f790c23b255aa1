"""Streamlit dashboard entry. Rendering only: pages call the `monitor` package, never SQL.

    streamlit run app.py        (or `make run`, which loads the sample data first)
"""

import streamlit as st

st.set_page_config(page_title="review-monitor", layout="wide")
navigation = st.navigation([
    st.Page("pages/queue.py", title="Needs response", default=True),
    st.Page("pages/overview.py", title="Overview", url_path="overview"),
    st.Page("pages/product.py", title="Product", url_path="product"),
])
navigation.run()
