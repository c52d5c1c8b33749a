"""Label a batch: N random plates, a design file or the library's selection, as one background job."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from designs.registry import DesignFileError, design_from_record, parse_designs
from engine.evaluators.fracture import FRACTURE_METRICS, FRACTURE_SPACES, FractureEvaluator
from engine.evaluators.fracture_batch import MAX_BATCH, random_plates
from engine.library import MAX_UPLOAD_BYTES
from engine.store import JobRecord
from fem.fracture import FIDELITIES
from ui.common import CheckedNumbers, job_manager, open_store, settings, show_error
from ui.fracture_setup import describe_setup, setup_inputs
from ui.job_panel import attach_job, attached_job_id, job_panel

#: Session key under which other pages (Design library, Rank designs) hand designs to this page.
HANDED = "batch-designs"
#: Result table columns with units (σ: nominal stress; τ in mode II).
COLUMNS = {"stiffness": "stiffness (MPa)", "strength": "strength (MPa)", "toughness": "toughness (MJ/m³)",
           **{m.name: m.display for m in FRACTURE_METRICS if m.symbol},
           "broke": "broke", "crack_tip_to_edge": "crack tip to edge", "along_grip": "along a grip",
           "wall_time": "wall time (s)"}

st.title("Label a batch")
st.markdown(
    "Label many plates in one background job with the fracture solver, through the executor set for this app "
    f"(`MATLOOP_EXECUTOR` = `{settings().executor}`): random designs, a design file, or the designs selected in "
    "the **Design library** or ranked on **Rank designs**. Designs already labelled under the same solver set-up "
    "are skipped (as `matloop label` does), each label is stored as it finishes, and a cancel stops the batch "
    "between designs and the solver runs in flight within about a second; running the same batch again labels "
    "only what is missing. The *fast* fidelity is one linear solve per design (stiffness and the energy release "
    "rate G/σ² of the initial crack); *strength* runs the phase-field model to the peak, *full* to failure.")
store = open_store()
manager = job_manager(store)

handed = st.session_state.get(HANDED)
sources = ["Random designs", "Design file", *(["Handed over"] if handed else [])]
source = st.radio("Which designs", sources, index=len(sources) - 1 if handed else 0, horizontal=True,
                  format_func=lambda s: f"{handed['what']} ({len(handed['records'])})" if s == "Handed over" else s)
numbers = CheckedNumbers()
random: dict | None = None
records: list[dict] | None = None
grid_side: int | None = None
if source == "Random designs":
    cols = st.columns(3)
    space = cols[0].radio("Design space", FRACTURE_SPACES, horizontal=True)
    count = numbers.number("Designs", 20, 1, MAX_BATCH, where=cols[1], help="random designs to label")
    hierarchical = space == "hierarchical"
    size = numbers.number("Building blocks per side" if hierarchical else "Blocks per side", 4 if hierarchical else 8,
                          1 if hierarchical else 2, 16 if hierarchical else 32, where=cols[2],
                          help="of the coarse grid: each building block is 2 × 2 blocks" if hierarchical
                          else "of the square grid")
    cols = st.columns(3)
    soft = seed = None
    symmetric = False
    if not hierarchical:
        soft = numbers.number("Soft fraction", 0.5, 0.0, 1.0, where=cols[0], step=0.05,
                              help="exact share of soft blocks of each design (rounded to a count)")
        symmetric = cols[2].checkbox("Mirror-symmetric about the crack plane")
    seed = numbers.number("Seed", 0, 0, 2**31 - 1, where=cols[1], help="of the random designs")
    if numbers.ok:
        random = {"space": space, "count": int(count), "size": int(size), "seed": int(seed)}
        if not hierarchical:
            random |= {"soft_fraction": float(soft), "symmetric": bool(symmetric)}
        grid_side = int(size) * (2 if hierarchical else 1)
elif source == "Design file":
    upload = st.file_uploader("Design file", type=["json", "jsonl"], key="batch-upload",
                              help=f"a JSON list or JSON lines of {{space, genome}}, e.g. "
                                   '`{"space": "checkerboard", "genome": {"grid": [[0, 1], [1, 0]], "palette": '
                                   '["soft", "stiff"]}}` (grid rows from the bottom; the Design library and the '
                                   f"campaign exports write such files), at most {MAX_UPLOAD_BYTES // 2**20} MiB and "
                                   f"{MAX_BATCH} designs")
    if upload is not None:
        try:
            designs = parse_designs(upload.getvalue(), upload.name, max_bytes=MAX_UPLOAD_BYTES)
        except DesignFileError as exc:
            show_error(f"Nothing will be labelled: {exc}")
        else:
            plates = [d for d in designs if d.space in FRACTURE_SPACES]
            if len(plates) < len(designs):
                show_error(f"{upload.name}: {len(designs) - len(plates)} design(s) are not block plates "
                           f"({', '.join(FRACTURE_SPACES)}); the fracture solver labels plates only.")
            elif len(plates) > MAX_BATCH:
                show_error(f"{upload.name} holds {len(plates)} designs; a batch job labels at most {MAX_BATCH}.")
            else:
                records = [{"space": d.space, "genome": d.genome()} for d in plates]
                st.caption(f"{upload.name}: {len(records)} designs, checked.")
else:
    records = list(handed["records"])
    st.caption(f"{len(records)} design{'' if len(records) == 1 else 's'} handed over from {handed['what']}.")
    if st.button("Forget these designs"):
        st.session_state.pop(HANDED, None)
        st.rerun()

cols = st.columns(3)
fidelity = cols[0].selectbox("Fidelity", FIDELITIES, index=FIDELITIES.index("fast"),
                             help="fast: one linear solve; strength: to the peak; full: to failure")
mode = cols[1].radio("Loading", ["I", "II"], horizontal=True, format_func=lambda m: f"mode {m}",
                     help="I: tension; II: shear (stiffness and strength are then shear values)")
plane = cols[2].radio("2D model", ["stress", "strain"], horizontal=True, format_func=lambda p: f"plane {p}")
st.subheader("Solver set-up")
st.caption("As on **Label design**: a set-up tried on one design labels the batch the same way.")
options = {"mode": mode, "plane": plane, **setup_inputs(numbers, wide=True)}
try:  # a set-up that cannot run is explained when the button is pressed
    evaluator = FractureEvaluator.from_options(fidelity, options) if numbers.ok else None
except ValueError:
    evaluator = None
if grid_side is not None and evaluator is not None:
    st.caption(f"Estimate per design: {evaluator.grid_cost(grid_side, grid_side).describe()}.")
numbers.summary("Labelling")
ready = numbers.ok and (random is not None or bool(records))
if st.button("Label designs", type="primary", disabled=not ready) and ready:
    try:
        evaluator = FractureEvaluator.from_options(fidelity, options)
        # the checks of the job (mesh resolves ℓ, plate fits this machine) before it is started: on one
        # random plate (they all have its grid), or on each design given
        for design in ([random_plates(**{**random, "count": 1})[0]] if random is not None else
                       (design_from_record(r["space"], r["genome"]) for r in records)):
            evaluator.check_design(design)
        params = {"fidelity": fidelity, "options": options, "executor": settings().executor}
        params |= {"random": random} if random is not None else {"designs": records}
    except ValueError as exc:
        show_error(f"Nothing was started: {exc}")
    else:
        attach_job(manager.submit("label-batch", params))


def show_result(job: JobRecord) -> None:
    """Counts, the table of designs and a link to the library."""
    result = job.result
    cols = st.columns(4)
    cols[0].metric("Designs", result["unique"], help=f"{result['requested']} requested, duplicates counted once")
    cols[1].metric("Labelled now", result["labelled_ok"] + result["labelled_failed"])
    cols[2].metric("Already stored", result["already_labelled"], help="skipped: labelled before under this set-up")
    cols[3].metric("Failed", result["labelled_failed"])
    random = job.params.get("random")
    if random:
        grid = "{0}×{0}".format(random.get("size"))
        what = (f"{random.get('count')} random {random.get('space')} designs ({grid}"
                + (f" building blocks, seed {random.get('seed')})" if random.get("space") == "hierarchical" else
                   f", soft fraction {random.get('soft_fraction', 0.5):g}, seed {random.get('seed')}"
                   + (", mirror-symmetric" if random.get("symmetric") else "") + ")"))
    else:
        given = len(job.params.get("designs") or [])
        what = f"{given} design{'' if given == 1 else 's'} given to the job"
    options = job.params.get("options") or {}
    st.caption(f"Labelled: {what}, fidelity {job.params.get('fidelity')}, mode {options.get('mode', 'I')}, "
               f"plane {options.get('plane', 'stress')}, {describe_setup(options)}.")
    rows = pd.DataFrame(result["rows"])
    if not rows.empty:
        rows = rows.assign(design=rows["design_hash"].str[:12]).rename(columns=COLUMNS)
        # a job recorded before a column was added lacks it
        filled = [c for c in COLUMNS.values() if c in rows and rows[c].notna().any()]
        shown = ["design", "space", "status", "stored", *filled,
                 *(["reason"] if rows["reason"].notna().any() else [])]
        st.dataframe(rows[shown], hide_index=True)
    key = result["key"]
    st.caption(f"Solver {key['name']} {key['version']}, fidelity {key['fidelity']}, settings `{key['config_hash'][:12]}`"
               f"{' (mode II: shear stiffness τ/γ and strength)' if (job.params.get('options') or {}).get('mode') == 'II' else ''}.")
    st.page_link("views/library.py", label="Open them in the Design library", icon=":material/table_view:")


job_id = attached_job_id()
if job_id:
    job_panel(store, manager, job_id, show_result, kinds=("label-batch",))
    try:
        cancelled = store.get_job(job_id).status == "cancelled"
    except KeyError:
        cancelled = False
    if cancelled:
        st.caption("The labels finished before the cancel are stored; start the same batch again to label the rest.")
        st.page_link("views/library.py", label="Open the Design library", icon=":material/table_view:")
