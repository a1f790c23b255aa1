"""Import reviews: upload marketplace exports (CSV, JSONL, Excel...) and store them scored."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import streamlit as st

from monitor.batch import ingest_file
from monitor.cases import CasePolicy
from monitor.ingest import SUPPORTED, IngestError
from monitor.store import StoreError
from views.common import t, get_analyzer, get_store, page_gate, settings, ui_lang, word

IMPORT_CHUNK_ROWS = 500


def import_line(summary) -> str:
    """What storing one file did (`FileIngestSummary`), in the team's language."""
    values = {k: getattr(summary, k) for k in ("path", "added", "edited", "already_stored",
                                               "rejected", "cases_opened", "alerts_queued")}
    if summary.edited:
        return t("{path}: {added} added, {edited} edited, {already_stored} already stored, "
                 "{rejected} rejected; {cases_opened} cases opened, {alerts_queued} alerts "
                 "queued", **values)
    return t("{path}: {added} added, {already_stored} already stored, {rejected} rejected; "
             "{cases_opened} cases opened, {alerts_queued} alerts queued", **values)

page_gate()
st.title(t("Import reviews"))
st.caption(t("Upload review exports from any marketplace: each review is scored in its own "
             "language, stored once (an export uploaded again adds only what is new), and those "
             "that need a response open cases and alert the team. For exports of millions of "
             "rows, `monitor ingest FILE` on the command line is faster."))

if ui_lang() != "en":
    # Streamlit writes its uploader's button and size line in English and offers no setting for
    # them: hide those two texts and show the catalog's in their place
    upload_word, size_line = t("Upload"), t("up to 200 MB per file")
    st.html(f"""<style>
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p,
[data-testid="stFileUploaderDropzoneInstructions"] span {{ display: none; }}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"]::after {{
  content: "{upload_word}"; }}
[data-testid="stFileUploaderDropzoneInstructions"] > div::after {{ content: "{size_line}";
  font-size: 0.875rem; }}
</style>""")
uploads = st.file_uploader(t("Review files"), type=sorted(s.lstrip(".") for s in SUPPORTED),
                           accept_multiple_files=True,
                           help=t("CSV, TSV, JSONL, JSON, Parquet or Excel; the review text "
                                  "column is found by its name (text, review, Review Content, "
                                  "评论, ...)"))
text_column = st.text_input(t("Review text column (only if it is not found by its name)"),
                            value="").strip() or None

if uploads and st.button(t("Import"), type="primary"):
    from monitor.scoring.analyzer import model_version

    url = settings().db_url
    store, policy = get_store(url), CasePolicy.from_env()
    version = model_version()  # hashes the model file: once per import, not per upload
    imported = 0
    with tempfile.TemporaryDirectory() as tmp:
        for upload in uploads:
            # the file keeps its name (its extension says how to read it), in a folder of its own
            path = Path(tmp) / Path(upload.name).name
            path.write_bytes(upload.getvalue())
            progress = st.empty()
            done, started = [0], time.monotonic()  # reviews stored so far (set by the callback)

            def show_progress(rows: int, name: str = upload.name) -> None:
                done[0] += rows
                rate = done[0] / max(time.monotonic() - started, 1e-9)
                progress.caption(t("{name}: {count} reviews scored and stored ({rate}/s)…",
                                   name=name, count=f"{done[0]:,}", rate=f"{rate:.0f}"))

            try:
                with st.spinner(t("Scoring {name}…", name=upload.name)):
                    # chunks of 500: a stored chunk is never lost, and the count moves every
                    # few seconds instead of once a minute
                    summary = ingest_file(path, get_analyzer, store, version,
                                          policy=policy, text_column=text_column,
                                          name=upload.name, on_rows=show_progress,
                                          chunk_rows=IMPORT_CHUNK_ROWS)
            except (IngestError, StoreError, ValueError) as exc:
                progress.empty()
                kept = t(" ({count} reviews before that were stored; importing the fixed file "
                         "again adds only the rest)", count=f"{done[0]:,}") if done[0] else ""
                st.error(str(exc).replace(str(path), upload.name) + kept)
                continue
            progress.empty()
            st.success(import_line(summary))
            imported += summary.added + summary.edited
    if imported:
        st.cache_data.clear()  # every page shows the new reviews at once
        if policy.alert_channels:
            from monitor.alerts import send_pending

            sent = send_pending(store)
            st.info(t("Alerts: {delivered} delivered, {retrying} to retry, {dead} dead.",
                      delivered=sent.delivered, retrying=sent.retrying, dead=sent.dead))
        st.caption(t("alert channels: {channels}",
                     channels=", ".join(word(c) for c in policy.alert_channels))
                   if policy.alert_channels else t(policy.channels_line()))  # "none set"
