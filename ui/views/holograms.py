"""Holograms page: upload a hologram or generate one, characterise every particle in it as a job.

A PNG/TIFF/``.npy`` image (with an optional background image; read as data only, kept beside the
store) or a seeded synthetic frame, the microscope and the method options go to a
``characterise-hologram`` job (:mod:`engine.analysis.tracking.hologram_job`), which runs
detection → estimation → Lorenz–Mie refinement with progress per particle. The page draws the
job's files: the frame with crop boxes and centres (and the truth of a synthetic frame), the
particle table with units and uncertainties, one particle's radial profile against its fit, and
the CSV download. Figures are in :mod:`ui.hologram_figures`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from engine.analysis.tracking.hologram_job import JOB_KIND, MAX_GENERATED_PIXELS, MAX_UPLOAD_BYTES, UPLOAD_FORMATS, \
    instrument_from, stage_upload
from engine.analysis.tracking.instrument import MAGNIFICATION_RANGE, MEDIUM_INDEX_RANGE, WAVELENGTH_RANGE
from engine.analysis.tracking.pipeline import DETECTORS, ESTIMATORS
from engine.analysis.tracking.synthetic import random_spheres
from engine.store import JobRecord
from ui.common import CheckedNumbers, job_manager, open_store, show_error
from ui.hologram_figures import frame_figure, profile_figure
from ui.job_panel import QUERY_KEY, attach_job, attached_job_id, job_panel

UPLOAD_MB = max(1, -(-MAX_UPLOAD_BYTES // 2**20))
GENERATE = "Generate a synthetic frame"
UPLOAD = "Upload an image"
#: Names of the engine's methods on the page.
METHOD_NAMES = {"auto": "Automatic: CNN for its microscope, else classical",
                "cnn": "CNN (trained for λ = 0.447 µm, 0.048 µm/px, n_m = 1.34; Altman & Grier 2020)",
                "orientation-alignment": "Orientation alignment (Krishnatreya & Grier 2014)",
                "svr": "SVR on radial profiles (Yevick, Hannel & Grier 2014)"}
#: Columns of the particle table as shown: header → (value column, uncertainty column or None,
#: decimals without an uncertainty, help). Values with an uncertainty read "value ± error", the
#: error to two significant digits; the CSV download keeps the numbers.
SHOWN = {
    "#": ("particle", None, 0, "strongest detection first"),
    "x (px)": ("x", "x_err", 2, "fitted centre, column, ± standard uncertainty"),
    "y (px)": ("y", "y_err", 2, "fitted centre, row (downward), ± standard uncertainty"),
    "z (µm)": ("z", "z_err", 3, "distance of the centre upstream of the focal plane, ± standard uncertainty"),
    "a_p (µm)": ("a_p", "a_p_err", 4, "radius, ± standard uncertainty"),
    "n_p": ("n_p", "n_p_err", 4, "refractive index, ± standard uncertainty"),
    "χ²": ("chi2", None, 2, "reduced χ² of the fit at the crop's pixel noise: about 1 for a good fit"),
    "fit": ("status", None, None, "ok, a poor fit (reduced χ² above 2), or why the fit failed"),
    "crop (px)": ("size", None, 0, "side of the fitted crop"),
    "Estimate z (µm)": ("z_estimate", None, 2, "the estimate the fit started from"),
    "Estimate a_p (µm)": ("a_p_estimate", None, 3, "the estimate the fit started from"),
    "Estimate n_p": ("n_p_estimate", None, 3, "the estimate the fit started from"),
}


def plus_minus(value: float, error: float | None, decimals: int | None) -> str:
    """``value ± error`` with the error to two significant digits (``decimals`` without one); "–" for NaN."""
    if value is None or not np.isfinite(value):
        return "–"
    if decimals is None:
        return str(value)
    if error is None or not np.isfinite(error) or error <= 0:
        return f"{value:.{decimals}f}"
    places = int(min(max(1 - np.floor(np.log10(error)), 0), 8))
    return f"{value:.{places}f} ± {error:.{places}f}"


def shown_table(table: pd.DataFrame) -> pd.DataFrame:
    """The particle table as the page shows it (:data:`SHOWN`)."""
    poor = table["message"].astype(str).str.startswith("poor fit")
    data = table.assign(status=np.where(table["success"] & ~poor, "ok", table["message"]))
    columns = {}
    for header, (column, error, decimals, _) in SHOWN.items():
        if column == "status":
            columns[header] = data[column].astype(str)
        else:
            errors = data[error] if error else [None] * len(data)
            columns[header] = [plus_minus(float(v), None if e is None else float(e), decimals)
                               for v, e in zip(data[column], errors)]
    return pd.DataFrame(columns)

st.title("Holograms")
st.markdown(
    "Find and characterise the colloidal spheres in an in-line hologram. Each particle scatters the illumination "
    "into rings described by **Lorenz–Mie theory**; the page runs three steps as a background job: "
    "**detection** of ring centres by the orientation alignment transform (Krishnatreya & Grier 2014), "
    "**estimation** of the radius $a_p$, refractive index $n_p$ and depth $z_p$ by support vector regression on "
    "each particle's radial profile (Yevick, Hannel & Grier 2014; about a thousand times faster than a fit), and "
    "**refinement** by a least-squares fit of the Lorenz–Mie hologram to the crop around each particle, with "
    "uncertainties (Lee et al. 2007). Overlapping fringes are handled by fitting every particle a second time "
    "with its neighbours' fitted fringes subtracted, after looking for hidden particles in the residual. "
    "Frames are normalised by a background image or by their median.")
st.caption("S.-H. Lee et al., Opt. Express 15, 18275 (2007) · B. J. Krishnatreya & D. G. Grier, Opt. Express 22, "
           "12773 (2014) · A. Yevick, M. Hannel & D. G. Grier, Opt. Express 22, 26884 (2014) · L. E. Altman & D. G. "
           "Grier, J. Phys. Chem. B 124, 1602 (2020). The same from the command line: `matloop track holograms "
           "FILES... --wavelength λ --magnification m --medium-index n`.")
store = open_store()
manager = job_manager(store)
job_id = attached_job_id()

@st.cache_data(show_spinner="Reading the image…", max_entries=4)
def staged_upload(store_path: str, name: str, data: bytes,
                  background: tuple[str, bytes] | None) -> tuple[dict, dict]:
    """:func:`stage_upload`, once per file: the page reruns on every input."""
    return stage_upload(store_path, name, data, background)


numbers = CheckedNumbers()
st.subheader("Microscope")
a, b, c = st.columns(3)
wavelength = numbers.number("Wavelength λ (µm)", 0.447, *WAVELENGTH_RANGE, "µm", where=a, step=0.001, format="%.4f",
                            help="vacuum wavelength of the illumination")
magnification = numbers.number("Magnification (µm/px)", 0.048, *MAGNIFICATION_RANGE, "µm/px", where=b, step=0.001,
                               format="%.4f", help="size of one camera pixel in the focal plane")
n_m = numbers.number("Medium index n_m", 1.34, *MEDIUM_INDEX_RANGE, where=c, step=0.001, format="%.4f",
                     help="refractive index of the medium (water at 447 nm: 1.340)")
st.caption("The shipped CNN detector and estimator belong to λ = 0.447 µm, 0.048 µm/px, n_m = 1.34. For another "
           "microscope the automatic methods are the classical detector and an SVR estimator trained on the first run "
           "(about ten seconds) and kept beside the store.")
source_column, settings_column = st.columns(2)
with source_column:
    st.subheader("Frame")
    origin = st.radio("Source", [GENERATE, UPLOAD], horizontal=True, label_visibility="collapsed")
    upload = background = staged = None
    if origin == GENERATE:
        a, b = st.columns(2)
        rows = numbers.number("Rows (px)", 512, 64, 1024, "px", where=a, help="frame height")
        cols = numbers.number("Columns (px)", 512, 64, 1280, "px", where=b, help="frame width; a full 1024×1280 camera "
                              "frame is slower (about four times the pixels of 512×512)")
        fewest = numbers.number("Fewest particles", 1, 0, 10, where=a)
        most = numbers.number("Most particles", 3, 0, 10, where=b, help="drawn uniformly from fewest to most")
        noise = numbers.number("Noise (%)", 5.0, 0.0, 50.0, "%", where=a, step=0.5, format="%.1f",
                               help="Gaussian pixel noise, per cent of the background")
        separation = numbers.number("Least separation (px)", 150.0, 0.0, 1000.0, "px", where=b, step=10.0,
                                    format="%.0f", help="least distance between particle centres")
        a_range = st.slider("Radius a_p (µm)", 0.2, 3.0, (0.4, 2.0), 0.05, help="drawn uniformly; default 0.4–2 µm")
        n_range = st.slider("Index n_p", 1.0, 2.5, (1.38, 1.8), 0.01, help="drawn uniformly, real; default 1.38–1.8")
        z_range = st.slider("Depth z_p (µm)", 5.0, 100.0, (10.0, 40.0), 0.5, help="drawn uniformly, upstream of the focal "
                            "plane; default 10–40 µm")
        seed = numbers.number("Seed", 0, 0, 2**31 - 1, help="of the particles and the noise")
        st.caption("The estimators that ship with matloop were trained on the default ranges; particles outside "
                   "them start their fit from the nearest edge of the ranges.")
    else:
        upload = st.file_uploader("Hologram (PNG, TIFF or .npy)", type=list(UPLOAD_FORMATS),
                                  max_upload_size=UPLOAD_MB, help="Greyscale 8- or 16-bit integers or 32-bit floats; "
                                  "RGB only with equal channels. A multi-page TIFF: the first page here.")
        background = st.file_uploader("Background image (optional)", type=list(UPLOAD_FORMATS),
                                      max_upload_size=UPLOAD_MB, help="Same size and camera settings, no particles "
                                      "(e.g. the median of many frames of a moving sample). Without one, the frame is "
                                      "divided by its median.")
        st.caption(f"At most {UPLOAD_MB} MiB and 2048×2048 px; read as data (Pillow, NumPy without pickles), never "
                   "executed.")
        if upload is not None:  # read (and kept beside the store) once uploaded: a bad file is said at once
            extra = None if background is None else (background.name, background.getvalue())
            try:
                staged = staged_upload(str(store.path), upload.name, upload.getvalue(), extra)
            except ValueError as exc:
                show_error(f"Cannot characterise this file: {exc}")
                staged = exc
            else:
                info = staged[1]
                st.caption(f"Read {upload.name}: {info['shape'][0]}×{info['shape'][1]} px, {info['kind']}; "
                           f"{info['normalisation']}.")

with settings_column:
    st.subheader("Method")
    detector = st.selectbox("Detector", ["auto", *DETECTORS], format_func=lambda k: METHOD_NAMES.get(k, k))
    estimator = st.selectbox("Estimator", ["auto", *ESTIMATORS], format_func=lambda k: METHOD_NAMES.get(k, k))
    a, b = st.columns(2)
    max_particles = numbers.number("Most particles characterised", 20, 1, 200, where=a,
                                   help="the strongest detections first")
    max_crop = numbers.number("Largest crop (px)", 301, 101, 801, "px", where=b, step=50,
                              help="side of the square fitted around each particle; the detector sizes each crop by "
                                   "where the fringes fade into the noise. A fit takes about four times longer per "
                                   "doubling of the side")
    refine = st.checkbox("Refine by a Lorenz–Mie fit", value=True,
                         help="off: report the estimates only (fast, about ten times less precise)")
    neighbours = st.checkbox("Subtract neighbours' fringes and fit again", value=True, disabled=not refine,
                             help="look for particles hidden under the fitted fringes, then fit every particle again "
                                  "with its neighbours' fitted holograms removed from its crop (about twice the time)")
    numbers.summary("Characterise")
    unreadable = isinstance(staged, ValueError)  # said under the uploader
    start = st.button("Characterise", type="primary", disabled=not numbers.ok or unreadable)

if start and numbers.ok and not unreadable:
    try:
        instrument = {"wavelength": float(wavelength), "magnification": float(magnification), "n_m": float(n_m)}
        instrument_from(instrument)
        if origin == GENERATE:
            if int(fewest) > int(most):
                raise ValueError(f"the fewest particles ({fewest}) must not exceed the most ({most})")
            if int(rows) * int(cols) > MAX_GENERATED_PIXELS:
                raise ValueError(f"a synthetic frame has at most {MAX_GENERATED_PIXELS:,} pixels")
            random_spheres(int(most), (int(rows), int(cols)), min_separation=float(separation), seed=int(seed))
            source = {"generate": {"shape": [int(rows), int(cols)], "particles": [int(fewest), int(most)],
                                   "noise": float(noise) / 100, "min_separation": float(separation),
                                   "a_range": list(a_range), "n_range": list(n_range), "z_range": list(z_range),
                                   "seed": int(seed)}}
        else:
            if upload is None:
                raise ValueError("upload a hologram image first (PNG, TIFF or .npy)")
            source = staged[0]
        options = {"detector": detector, "estimator": estimator, "refine": bool(refine),
                   "neighbours": bool(refine and neighbours), "max_particles": int(max_particles),
                   "max_crop": int(max_crop) | 1}
    except ValueError as exc:
        show_error(f"Cannot characterise {'this file' if origin == UPLOAD else 'this frame'}: {exc}")
        st.query_params.pop(QUERY_KEY, None)
        job_id = None
    else:
        attach_job(manager.submit(JOB_KIND, {"source": source, "instrument": instrument, "options": options}))
        job_id = attached_job_id()


@st.cache_data(show_spinner=False, max_entries=6)
def read_results(table_path: str, frame_path: str, truth_path: str | None,
                 modified: float) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame | None]:
    """The job's particle table, normalised frame and truth (``modified`` keys the cache to the files)."""
    table = pd.read_csv(table_path, dtype={"message": str})
    frame = np.load(frame_path, allow_pickle=False).astype(float)
    truth = pd.read_csv(truth_path) if truth_path else None
    return table, frame, truth


def _rounded(value: float, decimals: int) -> float:
    """``value`` rounded, without a negative zero ("-0.0000" in the table)."""
    return float(np.round(value, decimals)) + 0.0


def truth_table(table: pd.DataFrame, truth: pd.DataFrame, radius: float = 5.0) -> pd.DataFrame:
    """Each true particle beside the result nearest to it (within ``radius`` px) and the differences."""
    rows = []
    for _, t in truth.iterrows():
        distance = np.hypot(table["x"].fillna(table["x_detected"]) - t["x"], table["y"].fillna(table["y_detected"])
                            - t["y"]) if len(table) else pd.Series(dtype=float)
        near = distance.idxmin() if len(distance) and distance.min() <= radius else None
        found = table.loc[near] if near is not None else None
        rows.append({"x (px)": t["x"], "y (px)": t["y"], "z (µm)": t["z"], "a_p (µm)": t["a_p"], "n_p": t["n_p"],
                     "found as #": None if found is None else int(found["particle"]),
                     "Δ centre (px)": None if found is None else float(distance[near]),
                     "Δz (%)": None if found is None else _rounded(100 * (found["z"] / t["z"] - 1), 2),
                     "Δa_p (%)": None if found is None else _rounded(100 * (found["a_p"] / t["a_p"] - 1), 2),
                     "Δn_p": None if found is None else _rounded(found["n_p"] - t["n_p"], 4)})
    return pd.DataFrame(rows)


def show_result(job: JobRecord) -> None:
    """Metrics, the overlay, the tables, one particle's profile and the downloads of a finished job."""
    result = job.result
    paths = result["paths"]
    if not all(Path(p).is_file() for p in paths.values()):
        st.warning("The result files of this job are gone; run it again.")
        return
    table, frame, truth = read_results(paths["table"], paths["frame"], paths.get("truth"),
                                       Path(paths["table"]).stat().st_mtime)
    instrument = instrument_from(result["instrument"])
    timing = result["timing"]
    cols = st.columns(4)
    cols[0].metric("Particles", len(table), help="detected (and, with the neighbours' fringes subtracted, found in "
                   "the residual)")
    cols[1].metric("Fitted", f"{result['fitted']} of {len(table)}" if result["options"]["refine"] else "not refined")
    per_fit = timing.get("seconds_per_fit")
    cols[2].metric("Time per fit", f"{per_fit:.2f} s" if per_fit else "—",
                   help=f"detection {timing['detection_s']:.2f} s, estimation {timing['estimation_s']:.3f} s, "
                        f"refinement {timing['refinement_s']:.1f} s for {timing['fits']} fits")
    compared = result.get("truth")
    if compared:
        cols[3].metric("Within 1 % / 0.005 / 1 %", f"{compared['within']} of {compared['particles']}",
                       help="true particles found and fitted with a_p within 1 %, n_p within 0.005 and z within 1 % "
                            f"(the tolerances of matloop's benchmark); missed {compared['missed']}, false {compared['false']}")
    for note in result.get("notes", []):
        st.warning(note[0].upper() + note[1:] + ("" if note.endswith(".") else "."), icon=":material/warning:")
    source = result["source"]
    microscope = (f"λ = {instrument.wavelength:g} µm, {instrument.magnification:g} µm/px, "
                  f"n_m = {instrument.n_m:g}")
    options = result["options"]
    st.caption(f"Frame: {source['kind']}, {source['shape'][0]}×{source['shape'][1]} px; normalisation: "
               f"{source['normalisation']}. Microscope {microscope}. Detector: "
               f"{METHOD_NAMES.get(options['detector'], options['detector'])}; estimator: "
               f"{METHOD_NAMES.get(options['estimator'], options['estimator'])}.")
    left, right = st.columns([3, 2])
    left.plotly_chart(frame_figure(frame, table, truth), key="holograms-frame")
    left.caption("Dotted squares: the crops fitted (red: the fit failed); ×: detected centres, numbered; "
                 "○: fitted centres" + ("; ◇: the true particles of the synthetic frame" if truth is not None else "")
                 + ". Hover for values.")
    if len(table):
        with right:
            choice = st.selectbox("Radial profile of particle", list(table["particle"].astype(int)),
                                  format_func=lambda p: f"#{p}", key="holograms-profile")
            st.plotly_chart(profile_figure(frame, table.loc[table["particle"] == choice].iloc[0], instrument),
                            key="holograms-profile-figure")
            st.caption("Ring means of the frame about the (fitted) centre, against the same means of the Lorenz–Mie "
                       "model at the fitted and at the estimated parameters.")
    st.dataframe(shown_table(table), hide_index=True, placeholder="–", column_config={
        header: st.column_config.TextColumn(header, help=text) for header, (_, _, _, text) in SHOWN.items()})
    if compared:
        rmse, estimate = compared["rmse"], compared["estimate_rmse"]

        def text(values: dict) -> str:
            return ", ".join(f"{name} {values[key]:.3g}{unit}" for key, name, unit in
                             (("a_p", "a_p", " µm"), ("n_p", "n_p", ""), ("z", "z", " µm")) if values.get(key) is not None)
        st.markdown(f"**Against the truth** ({compared['matched']} of {compared['particles']} true particles found, "
                    f"{compared['false']} false): RMSE after the fit {text(rmse) or '—'}; of the estimates "
                    f"{text(estimate) or '—'}.")
        st.dataframe(truth_table(table, truth), hide_index=True, placeholder="–", column_config={
            name: st.column_config.NumberColumn(name, format=fmt) for name, fmt in
            (("x (px)", "%.2f"), ("y (px)", "%.2f"), ("z (µm)", "%.3f"), ("a_p (µm)", "%.4f"), ("n_p", "%.4f"),
             ("Δ centre (px)", "%.2f"), ("Δz (%)", "%.2f"), ("Δa_p (%)", "%.2f"), ("Δn_p", "%.4f"))})
    a, b = st.columns(2)
    a.download_button(f"Particle table (CSV, {len(table)} rows)", Path(paths["table"]).read_bytes(),
                      file_name=f"holograms-{job.id[:12]}.csv", mime="text/csv",
                      help="particle, x, y (px), z, a_p (µm), n_p, their *_err uncertainties, chi2, success, message, "
                           "x_detected, y_detected, size (px), score, *_estimate")
    if truth is not None:
        b.download_button("True particles (CSV)", Path(paths["truth"]).read_bytes(),
                          file_name=f"holograms-{job.id[:12]}-truth.csv", mime="text/csv",
                          help="x, y (px), z, a_p (µm), n_p of the synthetic frame")


if job_id:
    job_panel(store, manager, job_id, show_result, kinds=(JOB_KIND,))
