"""Design library: the store's designs with their labels — filter, sort, compare, upload, export."""

from __future__ import annotations

import hashlib

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from designs.checkerboard import Checkerboard
from designs.hierarchical import Hierarchical
from designs.registry import DesignFileError, design_from_record
from designs.spinodal import Spinodoid
from engine.library import (
    BLOCK_EDGE_RANGE_MM,
    COLUMN_HELP,
    MAX_PLATES,
    MAX_UPLOAD_BYTES,
    METRIC_COLUMNS,
    PLATE_FORMATS,
    SORTABLE_COLUMNS,
    THICKNESS_RANGE_MM,
    add_design_file,
    designs_json,
    filter_library,
    grid_sizes,
    library_csv,
    library_table,
    plates_zip,
    solver_key_name,
    solver_keys,
    sort_library,
    stored_curves,
)
from engine.store import Store
from ui.common import CheckedNumbers, open_store, show_error
from ui.design_figures import design_figure
from ui.job_panel import attached_job_id, no_jobs_here

#: Designs drawn side by side at most (the metrics table lists every selected row).
MAX_DRAWN = 8
DRAWINGS_PER_ROW = 4
G_COLUMN = METRIC_COLUMNS["energy_release_rate_per_stress_squared"]
#: Short headers of the page's table (the CSV keeps the full names).
HEADERS = {G_COLUMN: "G/σ² (mm/MPa)", METRIC_COLUMNS["stress_intensity_per_stress"]: "|K|/σ (√mm)",
           **{column: f"ν{name[2:]}" for name, column in METRIC_COLUMNS.items() if name.startswith("nu")},
           "soft_fraction": "soft fraction", "solver_version": "version",
           "wall_time (s)": "wall time (s)", "labelled_at (UTC)": "labelled (UTC)", "added_at (UTC)": "added (UTC)"}
#: Column order of the page's table: what tells designs apart first, provenance last.
SHOWN = ("design", "space", "grid", "soft_fraction", "fidelity", "mode", "plane", "status",
         *METRIC_COLUMNS.values(), "wall_time (s)", "reason", "solver", "solver_version", "config",
         "labelled_at (UTC)", "added_at (UTC)")


def column_config() -> dict:
    """Headers, tooltips (definition and unit) and number formats of the table's columns."""
    config: dict = {}
    for column in SHOWN:
        label, help_text = HEADERS.get(column, column), COLUMN_HELP[column]
        if column in METRIC_COLUMNS.values():
            config[column] = st.column_config.NumberColumn(label, help=help_text, format="%.4g")
        elif column in ("soft_fraction", "wall_time (s)"):
            config[column] = st.column_config.NumberColumn(label, help=help_text, format="%.3g")
        elif column.endswith("(UTC)"):
            config[column] = st.column_config.DatetimeColumn(label, help=help_text, format="YYYY-MM-DD HH:mm")
        else:
            config[column] = st.column_config.TextColumn(label, help=help_text)
    return config


def upload_section(store: Store) -> bool:
    """File uploader: every record checked first, all or nothing stored, the outcome kept until the next file.

    Returns True when this run stored designs.
    """
    stored = False
    st.caption(
        'A JSON list, or JSON lines, of `{"space": ..., "genome": ...}` objects — the file **Designs (JSON)** '
        f"below writes and `matloop label FILE` reads — of at most {MAX_UPLOAD_BYTES // 2**20} MiB. Every record "
        "is checked before anything is stored: if one is invalid, nothing is stored and each invalid record is "
        "listed with its number and the reason. Uploading adds designs; it labels none.")
    upload = st.file_uploader("Design file", type=["json", "jsonl"], key="library-upload")
    if upload is not None and st.session_state.get("library-upload-done") != upload.file_id:
        st.session_state["library-upload-done"] = upload.file_id
        try:
            report = add_design_file(store, upload.getvalue(), upload.name)  # size limit checked first
        except DesignFileError as exc:
            records = [(p.number, p.line, p.reason) for p in exc.problems if p.number is not None]
            message = (f"{upload.name}: {len(records)} of {exc.records} designs are invalid (each is listed below); "
                       "correct them and upload the file again." if records else str(exc))
            st.session_state["library-upload-outcome"] = ("error", message, records)
        except ValueError as exc:  # the store refused the write (StoreError)
            st.session_state["library-upload-outcome"] = ("error", f"{upload.name}: {exc}", [])
        else:
            st.session_state["library-upload-outcome"] = ("ok", f"{upload.name}: {report.summary()}", [])
            stored = bool(report.new)
    outcome = st.session_state.get("library-upload-outcome")
    if upload is not None and outcome:
        kind, message, problems = outcome
        if kind == "ok":
            st.success(message, icon=":material/check_circle:")
        else:
            show_error(f"Nothing was stored. {message}")
            if problems:
                listing = pd.DataFrame(problems, columns=["design", "line", "problem"])
                st.dataframe(listing.dropna(axis="columns", how="all"), hide_index=True, column_config={
                    "design": st.column_config.NumberColumn("design", help="number of the record in the file"),
                    "line": st.column_config.NumberColumn("line", help="line of the record (JSON lines)"),
                    "problem": st.column_config.TextColumn("problem", width="large")})
    return stored


def sidebar_filters(table: pd.DataFrame) -> pd.DataFrame:
    """Filters and sort order from the sidebar; returns the rows to show, in order."""
    with st.sidebar:
        st.subheader("Filter")
        spaces = st.multiselect("Design space", sorted(table["space"].dropna().unique()), placeholder="all")
        keys = st.multiselect("Solver set-up", solver_keys(table), placeholder="all",
                              help="solver, version and fidelity of the label; unlabelled designs drop out")
        modes = st.multiselect("Loading mode", sorted(table["mode"].dropna().unique()), placeholder="all",
                               format_func=lambda m: {"I": "I (tension)", "II": "II (shear)"}.get(m, m))
        grids = st.multiselect("Grid", grid_sizes(table), placeholder="all",
                               help=COLUMN_HELP["grid"])
        labelled = st.checkbox("Only designs with a label")
        st.subheader("Sort")
        by = st.selectbox("Sort by", SORTABLE_COLUMNS, index=SORTABLE_COLUMNS.index("added_at (UTC)"),
                          format_func=lambda c: HEADERS.get(c, c))
        descending = st.toggle("Descending (largest, newest first)", value=True)
    shown = filter_library(table, spaces=spaces, solver_keys=keys, modes=modes, grids=grids, labelled_only=labelled)
    return sort_library(shown, by, descending)


def grid_text(design: object) -> str:
    """What a drawing's title says of the design: ``"8×8"``, ``"4×4 (8×8 blocks)"``, a spinodoid's ρ and cone angles."""
    if isinstance(design, Hierarchical):
        rows, columns = design.shape
        return f"{rows}×{columns} ({rows * design.sub}×{columns * design.sub} blocks)"
    if isinstance(design, Checkerboard):
        return "{}×{}".format(*design.shape)
    if isinstance(design, Spinodoid):
        return f"ρ = {design.rho:.2f}, θ = ({', '.join(f'{t:g}°' for t in design.theta)})"
    return ""


def compare(store: Store, rows: pd.DataFrame) -> None:
    """The selected designs drawn side by side, their metrics in a table and one metric as bars."""
    designs = list(dict.fromkeys(rows["design"]))
    st.subheader(f"Selected: {len(rows)} row{'s' * (len(rows) != 1)}, {len(designs)} design{'s' * (len(designs) != 1)}")
    records = {record.hash: record for record in store.designs(hashes=designs[:MAX_DRAWN])}
    for start in range(0, min(len(designs), MAX_DRAWN), DRAWINGS_PER_ROW):
        columns = st.columns(DRAWINGS_PER_ROW)
        for column, design_hash in zip(columns, designs[start:start + DRAWINGS_PER_ROW]):
            record = records[design_hash]
            design = design_from_record(record.space, record.genome)
            title = f"{design_hash[:12]}<br>{record.space} {grid_text(design)}"
            figure = design_figure(design, title=title, height=300)
            figure.update_layout(margin={"t": 60}, title_font_size=13)
            column.plotly_chart(figure, key=f"drawing-{design_hash}")
    if len(designs) > MAX_DRAWN:
        st.caption(f"The first {MAX_DRAWN} selected designs are drawn; the table lists all {len(designs)}.")
    st.caption("Plates: yellow soft, blue stiff blocks on the 1 mm × 1 mm plate, red the initial edge crack "
               "(0.2 mm from the left edge at mid-height); spinodoids: solid (blue) on the mid-plane of the cell.")
    metrics = [c for c in METRIC_COLUMNS.values() if rows[c].notna().any()]
    table = rows.assign(design=rows["design"].str[:12],
                        solver_key=[solver_key_name(s, v, f) if isinstance(s, str) else None
                                    for s, v, f in zip(rows["solver"], rows["solver_version"], rows["fidelity"])])
    st.dataframe(table[["design", "space", "grid", "soft_fraction", "solver_key", "mode", "plane", "status", *metrics,
                        "wall_time (s)", "reason"]],
                 hide_index=True, column_config={**column_config(), "solver_key": st.column_config.TextColumn(
                     "solver set-up", help="solver, version and fidelity")})
    modes = sorted(set(rows["mode"].dropna()))
    if len(modes) > 1:
        st.warning("The selection mixes mode I (tension) and mode II (shear) labels: in mode II stiffness and strength "
                   "are shear values (τ/γ, peak τ), not comparable with the tensile ones.", icon=":material/warning:")
    if metrics:
        metric = st.selectbox("Compare", metrics, format_func=lambda c: HEADERS.get(c, c))
        labelled = table[table[metric].notna()]
        names = [f"{d} · {k}" for d, k in zip(labelled["design"], labelled["solver_key"])]
        bars = go.Figure()
        for mode, colour in (("I", "#2d5d7b"), ("II", "#c05746")):  # tension and shear apart: not comparable
            of_mode = (labelled["mode"] == mode).to_numpy()
            if of_mode.any():
                bars.add_bar(x=labelled[metric][of_mode], y=[n for n, keep in zip(names, of_mode) if keep],
                             orientation="h", name=f"mode {mode} ({'tension' if mode == 'I' else 'shear'})",
                             marker_color=colour, hovertemplate="%{y}: %{x:.4g}<extra></extra>")
        bars.update_layout(height=140 + 28 * len(names), margin={"l": 10, "r": 10, "t": 40, "b": 10},
                           xaxis_title=HEADERS.get(metric, metric), showlegend=True,
                           yaxis={"categoryorder": "array", "categoryarray": names[::-1]},
                           title=COLUMN_HELP[metric].split(";")[0])
        st.plotly_chart(bars)
    else:
        st.info("None of the selected rows has a label: label the designs on the **Label a design** page or with "
                "`matloop label`.")
    curves_of(store, rows)


def curves_of(store: Store, rows: pd.DataFrame) -> None:
    """The stored stress–strain curves of the selected labels, overlaid (tension and shear apart)."""
    curves = stored_curves(store, rows)
    if not curves:
        if rows["fidelity"].isin(["strength", "full"]).any():
            st.caption("No stress–strain curve is stored with these labels (labels made before curves were kept).")
        return
    for mode, quantity in (("I", ("nominal strain ε", "nominal stress σ (MPa)")),
                           ("II", ("nominal shear strain γ", "nominal shear stress τ (MPa)"))):
        of_mode = [c for c in curves if c["mode"] == mode]
        if not of_mode:
            continue
        figure = go.Figure()
        for curve in of_mode:
            figure.add_scatter(x=curve["strain"], y=curve["stress"], mode="lines",
                               name=f"{curve['design'][:12]} · {curve['fidelity']}",
                               hovertemplate="strain %{x:.4g}, stress %{y:.4g} MPa<extra></extra>")
        figure.update_layout(height=380, xaxis_title=quantity[0], yaxis_title=quantity[1],
                             title=f"stored stress–strain curves, mode {mode} ({'tension' if mode == 'I' else 'shear'})",
                             legend={"orientation": "h", "y": -0.25})
        st.plotly_chart(figure, key=f"curves-{mode}")


def export(store: Store, rows: pd.DataFrame, what: str) -> None:
    """Downloads of ``rows``: designs JSON, table CSV, printable plates."""
    designs = list(dict.fromkeys(rows["design"]))
    tag = hashlib.sha256("".join(designs).encode()).hexdigest()[:8]
    a, b = st.columns(2)
    a.download_button(f"Designs (JSON, {len(designs)})", designs_json(store, designs),
                      file_name=f"designs-{tag}.json", mime="application/json",
                      help="JSON list of {space, genome}: upload it here again or label it with `matloop label FILE`")
    b.download_button(f"Table (CSV, {len(rows)} rows)", library_csv(rows), file_name=f"library-{tag}.csv",
                      mime="text/csv", help="every column, units in the header, full design hashes, UTC times")
    with st.expander("Printable plates (3MF / STL)"):
        left, middle, right = st.columns(3)
        printing = CheckedNumbers()  # a size out of range is refused, never replaced by another
        edge = printing.number("Block edge (mm)", 5.0, *BLOCK_EDGE_RANGE_MM, "mm", where=left, step=0.5,
                               help="edge of one square block of the printed plate")
        thickness = printing.number("Thickness (mm)", 2.0, *THICKNESS_RANGE_MM, "mm", where=middle, step=0.5,
                                    help="thickness of the printed plate")
        formats = right.multiselect("Formats", PLATE_FORMATS, default=list(PLATE_FORMATS), format_func=str.upper,
                                    help="3MF: one file per plate with a named body per material, for "
                                         "multi-material printers; STL: one file per material")
        st.caption(f"One zip of the {what}: per plate a 3MF and/or an STL per material, with designs.json and a "
                   f"README giving sizes and axes. Spinodoids are not plates (export them on the Spinodoids page); "
                   f"at most {MAX_PLATES} plates per zip.")
        request = (tuple(designs), edge, thickness, tuple(formats))
        printing.summary("Preparing plates")
        if st.button("Prepare plates", disabled=not printing.ok or not formats):
            try:
                archive = plates_zip(store, designs, edge, thickness, formats)
            except ValueError as exc:
                show_error(f"No plates prepared: {exc}")
                st.session_state.pop("library-plates", None)
            else:
                st.session_state["library-plates"] = (request, archive)
        prepared = st.session_state.get("library-plates")
        if prepared and prepared[0] == request:
            archive = prepared[1]
            if archive.skipped:
                st.warning(f"{len(archive.skipped)} selected design(s) are not block plates and are not in the zip.")
            st.download_button(f"Download plates (zip, {len(archive.plates)} plates)", archive.data,
                               file_name=f"plates-{tag}.zip", mime="application/zip")


st.title("Design library")
st.markdown(
    "Every design in the campaign store with its labels, one row per design and label (a design without a "
    "label has one row with empty label columns). Stiffness and strength are nominal values of the "
    "edge-cracked 1 mm plate in MPa (mode II: shear), toughness the work of fracture in MJ/m³, G/σ² the energy "
    "release rate of the initial crack per unit stress squared in mm/MPa and |K|/σ its stress intensity in √mm "
    "(fast fidelity); spinodoids have their homogenised moduli E1…G12 in units of the solid's Young's modulus "
    "E_s and Poisson's ratios ν12, ν13, ν23; hover a column header "
    "for its definition. Filter in the sidebar, sort by any metric, select rows (tick boxes on the left) to "
    "draw the designs side by side and compare their numbers, upload designs and export a selection.")
store = open_store()
job_id = attached_job_id()
if job_id:
    no_jobs_here(store, job_id)

everything = library_table(store)
with st.expander("Add designs from a file", expanded=everything.empty, icon=":material/upload_file:"):
    if upload_section(store):
        everything = library_table(store)  # with what the upload added

if everything.empty:
    st.info(
        "**The library is empty.** Designs get here in three ways:\n"
        "- upload a design file (above);\n"
        "- label a design on the **Label a design** page: each label stores its design;\n"
        "- from the command line, e.g. `matloop label --random 20 --size 8 --fidelity fast` (20 random 8×8 "
        "checkerboards, one linear solve each) or `matloop label designs.json`.",
        icon=":material/info:")
    st.page_link("views/label_design.py", label="Label a design", icon=":material/grid_on:")
    st.stop()

shown = sidebar_filters(everything)
st.caption(f"{everything['design'].nunique()} designs and {everything['status'].notna().sum()} labels in the store; "
           f"{len(shown)} rows shown.")
if shown.empty:
    st.info("No rows match the filters in the sidebar.")
    st.stop()

view = shown.loc[:, list(SHOWN)].assign(design=shown["design"].str[:12],
                                        status=shown["status"].where(shown["status"].notna(), "no label"))
# A new key for every new set of rows: a selection is kept only while the table it was made in is shown.
rows_key = hashlib.sha256(pd.util.hash_pandas_object(shown[["design", "config", "fidelity"]].astype(str),
                                                     index=False).values.tobytes()).hexdigest()[:12]
event = st.dataframe(view, hide_index=True, column_config=column_config(), on_select="rerun",
                     selection_mode="multi-row", key=f"library-table-{rows_key}")
selected = shown.iloc[sorted(event.selection.rows)] if event.selection.rows else shown.iloc[[]]

if not selected.empty:
    compare(store, selected)
    plates = [r for r in store.designs(hashes=list(dict.fromkeys(selected["design"]))) if r.space in ("checkerboard",
                                                                                                        "hierarchical")]
    if st.button(f"Label these designs ({len(plates)})", disabled=not plates, icon=":material/dataset:",
                 help="opens Label a batch with the selected block plates: choose the fidelity and set-up there; "
                      "labels already stored under that set-up are skipped"):
        st.session_state["batch-designs"] = {"what": "the Design library selection",
                                             "records": [{"space": r.space, "genome": r.genome} for r in plates]}
        st.switch_page("views/label_batch.py")
st.subheader("Export")
scope = st.radio("Export", ["selected rows", "all rows shown"], index=0 if not selected.empty else 1, horizontal=True,
                 label_visibility="collapsed")
if scope == "selected rows" and selected.empty:
    st.info("Select rows in the table (the boxes on the left) to export them, or choose all rows shown.")
else:
    export(store, selected if scope == "selected rows" else shown, "selected designs" if scope == "selected rows"
           else "designs shown")
