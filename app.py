"""Streamlit dashboard entry. Rendering only: pages call the `monitor` package, never SQL.

    streamlit run app.py        (or `make run`, which loads the sample data first)
"""

import streamlit as st

from monitor.settings import load_config_file
from views.common import language_switch, login_gate, t

st.set_page_config(page_title="review-monitor", layout="wide")
load_config_file()
language_switch()
if login_gate(notice=False) is None:  # each page repeats the check and shows the notice
    st.stop()
navigation = st.navigation([
    st.Page("views/queue.py", title=t("Needs response"), default=True),
    st.Page("views/overview.py", title=t("Overview"), url_path="overview"),
    st.Page("views/product.py", title=t("Product"), url_path="product"),
    st.Page("views/importer.py", title=t("Import reviews"), url_path="import"),
])
navigation.run()
