"""The library table: one row per (design, label) of the store, with fixed column names.

A design without a label is one row with empty label columns. Metric columns carry their unit
in the name, taken from the fracture evaluator's metric table (``stiffness (MPa)``,
``toughness (MJ/m³)``, ...), so the table, its CSV export and the page say the same thing.
Free functions over a :class:`pandas.DataFrame`, in the manner of trackpy: build it
(:func:`library_table`), filter it (:func:`filter_library`), sort it (:func:`sort_library`),
write it (:func:`library_csv`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from designs.hierarchical import sub_pattern
from engine.evaluators.fracture import FractureEvaluator
from engine.evaluators.spinodoid import HomogenizationEvaluator
from engine.store import LabelRecord, Store
from fem.homogenize import ORTHOTROPIC_CONSTANTS

__all__ = [
    "COLUMN_HELP",
    "LIBRARY_COLUMNS",
    "METRIC_COLUMNS",
    "SORTABLE_COLUMNS",
    "filter_library",
    "grid_sizes",
    "library_csv",
    "library_table",
    "solver_key_name",
    "solver_keys",
    "sort_library",
    "stored_curves",
]

_FRACTURE = FractureEvaluator()
_HOMOGENIZATION = HomogenizationEvaluator()
#: Metrics of a fracture label shown in the table, by their name in the label's metrics.
_METRICS = ("stiffness", "strength", "toughness", "energy_release_rate_per_stress_squared",
            "stress_intensity_per_stress")
#: Metrics of a spinodoid label shown in the table: its orthotropic constants.
_SPINODOID_METRICS = ORTHOTROPIC_CONSTANTS
#: Label metric name → table column (the name with its unit, e.g. ``"toughness (MJ/m³)"``, ``"E1 (E_s)"``).
METRIC_COLUMNS: dict[str, str] = {**{name: _FRACTURE.metric(name).label for name in _METRICS},
                                  **{name: _HOMOGENIZATION.metric(name).label for name in _SPINODOID_METRICS}}
WALL_TIME = _FRACTURE.metric("wall_time").label  # "wall_time (s)"
#: Every column, in order.
LIBRARY_COLUMNS: tuple[str, ...] = (
    "design", "space", "grid", "soft_fraction", "solver", "solver_version", "fidelity", "config", "mode", "plane",
    "status", "reason", *METRIC_COLUMNS.values(), WALL_TIME, "labelled_at (UTC)", "added_at (UTC)",
)
#: Columns it makes sense to sort by (numbers and times), metrics first.
SORTABLE_COLUMNS: tuple[str, ...] = (*METRIC_COLUMNS.values(), WALL_TIME, "soft_fraction", "labelled_at (UTC)",
                                     "added_at (UTC)")
_FIDELITY_NOTE = {
    "stiffness": "all fidelities",
    "strength": "fidelities strength and full; where the run did not pass its peak the value is a lower bound "
                "(the reason says how the run ended)",
    "toughness": "fidelity full only; where the plate did not break it is the work up to the last strain, a lower "
                 "bound (the reason says so)",
    "energy_release_rate_per_stress_squared": "fidelity fast only",
    "stress_intensity_per_stress": "fidelity fast only; empty where more than two phases meet at the crack tip",
}
_SHEAR_NOTE = {
    "stiffness": "mode II: shear stiffness τ/γ",
    "strength": "mode II: peak nominal shear stress τ",
    "toughness": "mode II: area under the τ–γ curve",
    "energy_release_rate_per_stress_squared": "mode II: G/τ²",
    "stress_intensity_per_stress": "mode II: |K|/τ",
}
#: Column → what it holds, with its unit: the tooltips of the page.
COLUMN_HELP: dict[str, str] = {
    "design": "content hash (SHA-256) of the design's space and genome",
    "space": "design space: checkerboard, hierarchical (Gu et al. 2018 building blocks) or spinodoid",
    "grid": "rows × columns of the design's grid (hierarchical: the coarse grid of building blocks, each "
            "sub × sub blocks); the plate is 1 mm × 1 mm whatever the grid",
    "soft_fraction": "area fraction of soft blocks (dimensionless)",
    "solver": "labelling solver",
    "solver_version": "solver version; labels of different versions are not comparable",
    "fidelity": "fast: one linear solve of the initial crack; strength: phase-field run to the peak; full: to failure",
    "config": "first 12 characters of the hash of the solver settings (mesh, length scale, materials, ...): "
              "labels with equal solver, version, fidelity and config were computed the same way",
    "mode": "loading: I (tension) or II (shear)",
    "plane": "2D model: plane stress or plane strain",
    "status": "ok, or failed (the reason says why); empty: the design has no label",
    "reason": "why a label failed, or a caveat of an ok label (e.g. a run that ended before its end criterion)",
    **{column: f"{_FRACTURE.metric(name).description} ({_FRACTURE.metric(name).unit}); {_FIDELITY_NOTE[name]}; "
               f"{_SHEAR_NOTE[name]}" for name, column in METRIC_COLUMNS.items() if name in _METRICS},
    **{column: f"spinodoid labels: homogenised {_HOMOGENIZATION.metric(name).description} ("
               + ("dimensionless)" if _HOMOGENIZATION.metric(name).unit == "1" else "in units of the solid's Young's "
                  "modulus E_s)") for name, column in METRIC_COLUMNS.items() if name in _SPINODOID_METRICS},
    WALL_TIME: "seconds the solver took for this label",
    "labelled_at (UTC)": "when the label was stored (UTC)",
    "added_at (UTC)": "when the design was stored (UTC)",
}


def _grid_and_soft_fraction(space: str, genome: Any) -> tuple[str | None, float]:
    """``"rows×columns"`` of a plate's genome and its soft area fraction (NaN where it does not apply).

    Read from the stored (validated, canonical) genome with NumPy, not by rebuilding the design:
    the table of a large store stays quick.
    """
    if space not in ("checkerboard", "hierarchical") or not isinstance(genome, dict):
        return None, float("nan")
    try:
        grid = np.asarray(genome["grid"], dtype=int)
        shape = f"{grid.shape[0]}×{grid.shape[1]}"
        if space == "checkerboard":
            palette = list(genome.get("palette", ["soft", "stiff"]))
            if "soft" not in palette:
                return shape, float("nan")
            return shape, float(np.mean(grid == palette.index("soft")))
        sub = int(genome.get("sub", 2))
        soft = {code: int(np.sum(sub_pattern(code, sub) == 0)) for code in range(3)}
        return shape, float(sum(soft[int(code)] for code in grid.ravel()) / (grid.size * sub * sub))
    except (KeyError, TypeError, ValueError, IndexError):  # not a grid genome: leave the cells empty
        return None, float("nan")


def _label_cells(label: LabelRecord | None) -> dict[str, Any]:
    if label is None:
        return {}
    metrics = label.metrics
    wall = label.wall_time if label.wall_time is not None else metrics.get("wall_time")
    cells = {
        "solver": label.solver, "solver_version": label.solver_version, "fidelity": label.fidelity,
        "config": label.config_hash[:12], "mode": metrics.get("mode"), "plane": metrics.get("plane"),
        "status": label.status, "reason": label.reason, WALL_TIME: wall,
        "labelled_at (UTC)": label.created_at,
    }
    for name, column in METRIC_COLUMNS.items():
        value = metrics.get(name)
        cells[column] = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return cells


def library_table(store: Store, space: str | None = None) -> pd.DataFrame:
    """Every stored design with each of its labels: one row per (design, label).

    Parameters
    ----------
    store : Store
        The campaign store.
    space : str, optional
        Only designs of this space.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`LIBRARY_COLUMNS` (see :data:`COLUMN_HELP`), designs in the order they
        were stored and each design's labels oldest first; a design without a label has one
        row with empty label columns (NaN, None). Stiffness and strength in MPa, toughness in
        MJ/m³, G/σ² in mm/MPa, wall time in s; times are UTC.
    """
    labels: dict[str, list[LabelRecord]] = {}
    for label in store.labels():
        labels.setdefault(label.design_hash, []).append(label)
    rows = []
    for record in store.designs(space):
        grid, soft = _grid_and_soft_fraction(record.space, record.genome)
        base = {"design": record.hash, "space": record.space, "grid": grid, "soft_fraction": soft,
                "added_at (UTC)": record.created_at}
        for label in labels.get(record.hash) or [None]:
            rows.append({**dict.fromkeys(LIBRARY_COLUMNS), **base, **_label_cells(label)})
    table = pd.DataFrame(rows, columns=list(LIBRARY_COLUMNS), dtype=object)  # text columns stay text, also all empty
    for column in (*METRIC_COLUMNS.values(), WALL_TIME, "soft_fraction"):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    for column in ("labelled_at (UTC)", "added_at (UTC)"):
        table[column] = pd.to_datetime(pd.to_numeric(table[column], errors="coerce"), unit="s", utc=True)
    return table


def stored_curves(store: Store, rows: pd.DataFrame) -> list[dict[str, Any]]:
    """The nominal stress–strain curves stored with the labels of some library rows.

    Parameters
    ----------
    store : Store
        The campaign store.
    rows : pandas.DataFrame
        Rows of :func:`library_table` (columns ``design``, ``solver``, ``solver_version``,
        ``fidelity``, ``config``).

    Returns
    -------
    list of dict
        One entry per row whose label holds a curve (phase-field labels at the ``strength`` and
        ``full`` fidelities, computed since curves are stored), in the order of ``rows``: keys
        ``design``, ``solver``, ``solver_version``, ``fidelity``, ``mode``, ``strain`` (nominal
        strain, dimensionless; shear strain γ in mode II) and ``stress`` (nominal stress in MPa;
        shear stress τ in mode II), the last two as float arrays of equal length.
    """
    wanted = {(d, s, v, f, c) for d, s, v, f, c in zip(rows["design"], rows["solver"], rows["solver_version"],
                                                      rows["fidelity"], rows["config"]) if isinstance(s, str)}
    found: dict[tuple, dict[str, Any]] = {}
    for label in store.labels():
        identity = (label.design_hash, label.solver, label.solver_version, label.fidelity, label.config_hash[:12])
        curve = label.metrics.get("curve")
        if identity in wanted and isinstance(curve, dict) and curve.get("strain") and curve.get("stress"):
            found[identity] = {"design": label.design_hash, "solver": label.solver,
                               "solver_version": label.solver_version, "fidelity": label.fidelity,
                               "mode": label.metrics.get("mode"), "strain": np.asarray(curve["strain"], float),
                               "stress": np.asarray(curve["stress"], float)}
    return [found[identity] for identity in zip(rows["design"], rows["solver"], rows["solver_version"],
                                                rows["fidelity"], rows["config"]) if identity in found]


def solver_key_name(solver: str, version: str, fidelity: str) -> str:
    """How the page names a solver key, e.g. ``"phasefield-at2 v3 · fast"``."""
    return f"{solver} v{version} · {fidelity}"


def _key_names(table: pd.DataFrame) -> pd.Series:
    labelled = table["solver"].notna()
    names = pd.Series([None] * len(table), index=table.index, dtype=object)
    names[labelled] = [solver_key_name(*key) for key in
                       zip(table.loc[labelled, "solver"], table.loc[labelled, "solver_version"],
                           table.loc[labelled, "fidelity"])]
    return names


def solver_keys(table: pd.DataFrame) -> list[str]:
    """The solver keys (solver, version, fidelity) of the table's labels, as :func:`solver_key_name` names them."""
    return sorted(set(_key_names(table).dropna()))


def grid_sizes(table: pd.DataFrame) -> list[str]:
    """The table's grid sizes (``"rows×columns"``), smallest first."""
    return sorted(set(table["grid"].dropna()), key=lambda g: tuple(int(n) for n in g.split("×")))


def filter_library(
    table: pd.DataFrame,
    *,
    spaces: Iterable[str] | None = None,
    solver_keys: Iterable[str] | None = None,
    modes: Iterable[str] | None = None,
    grids: Iterable[str] | None = None,
    labelled_only: bool = False,
) -> pd.DataFrame:
    """Rows of ``table`` that match every filter given (None or empty: no filter).

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`library_table`.
    spaces : iterable of str, optional
        Design spaces to keep.
    solver_keys : iterable of str, optional
        Solver keys to keep, named as :func:`solver_key_name` names them (unlabelled rows drop out).
    modes : iterable of str, optional
        Loading modes ("I", "II") to keep (unlabelled rows drop out).
    grids : iterable of str, optional
        Grid sizes (``"8×8"``) to keep.
    labelled_only : bool
        Drop the rows of designs without a label.
    """
    keep = pd.Series(True, index=table.index)
    for column, wanted in (("space", spaces), ("mode", modes), ("grid", grids)):
        if wanted:
            keep &= table[column].isin(list(wanted))
    if solver_keys:
        keep &= _key_names(table).isin(list(solver_keys))
    if labelled_only:
        keep &= table["status"].notna()
    return table[keep]


def sort_library(table: pd.DataFrame, column: str, descending: bool = True) -> pd.DataFrame:
    """``table`` sorted by ``column`` (empty cells last; ties keep their order).

    Raises
    ------
    ValueError
        ``column`` is not a column of the table.
    """
    if column not in table.columns:
        raise ValueError(f"cannot sort by {column!r}; columns: {', '.join(table.columns)}")
    return table.sort_values(column, ascending=not descending, na_position="last", kind="stable")


def library_csv(table: pd.DataFrame, columns: Sequence[str] = LIBRARY_COLUMNS) -> str:
    """The table as CSV text: a header with the column names (units in the metric names), full hashes,
    ISO 8601 UTC times, empty cells for missing values."""
    return table.loc[:, list(columns)].to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
