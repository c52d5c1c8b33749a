"""What a campaign found: the best designs as a table, best-so-far curves, exports for printing.

Used by ``matloop campaign report|export`` and the Campaigns page.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from designs.base import Design
from designs.checkerboard import Checkerboard
from designs.hierarchical import Hierarchical
from designs.spinodal import Spinodoid
from engine.campaigns.campaign import Campaign, Result
from engine.evaluators.fracture import FAILURE_METRICS

__all__ = ["EXPORT_FORMATS", "PART_WARNINGS", "best_rows", "design_parameters", "export_best", "grip_note",
           "plot_best_so_far", "provenance", "target_note", "unbroken_note"]

#: File formats of :func:`export_best`.
EXPORT_FORMATS = ("json", "jsonl", "csv", "stl", "3mf")


def design_parameters(design: Design) -> dict[str, float]:
    """What a scientist reads off a design: ``rho`` and the cone angles ``theta_x (deg)``,
    ``theta_y (deg)``, ``theta_z (deg)`` of a spinodoid, or the ``soft fraction`` of a plate
    (hierarchical designs: of the expanded plate)."""
    if isinstance(design, Spinodoid):
        return {"rho": float(design.rho), **{f"theta_{axis} (deg)": float(t) for axis, t in zip("xyz", design.theta)}}
    if isinstance(design, Hierarchical):
        design = design.expand()
    return {"soft fraction": float(design.fraction("soft"))} if isinstance(design, Checkerboard) else {}


def best_rows(campaign: Campaign, k: int = 10) -> list[dict[str, Any]]:
    """The ``k`` best labelled designs as table rows (rank, candidate id, design, objective values, metrics).

    After the design hash come its parameters (:func:`design_parameters`).

    The metrics shown are the evaluator's objectives (units in the column names). Full fracture
    labels add how the plate failed (:mod:`fem.fracture`): ``broke``, False where the plate still
    carried load at the largest strain of the test, so its toughness is a lower bound (see
    :func:`unbroken_note`); ``crack_tip_to_edge``, whether a crack band joins the notch tip to an
    edge; ``along_grip``, True where a band runs along a grip (see :func:`grip_note`). Labels
    recorded before the last two were read lack them.
    """
    objectives = [m for m in campaign.evaluator.METRICS if m.larger_is_better is not None]
    rows = []
    for rank, result in enumerate(campaign.best(k), start=1):
        row: dict[str, Any] = {"rank": rank, "candidate": result.candidate.id, "batch": result.candidate.batch,
                               "design": result.candidate.design.content_hash()[:12]}
        row.update(design_parameters(result.candidate.design))
        names = campaign.objective.metrics if campaign.objective.kind != "target_stiffness" else ("error",)
        for name, value in zip(names if campaign.objective.n_values > 1 else ("objective",), result.values):
            row[name if campaign.objective.n_values > 1 else "objective"] = float(value)
        metrics = result.evaluation.metrics
        for metric in objectives:
            value = metrics.get(metric.name)
            if isinstance(value, (int, float)):
                row[metric.label] = float(value)
        # full labels only: at the strength fidelity "broke" only means the peak was passed
        if isinstance(metrics.get("toughness"), (int, float)):
            row.update({name: metrics[name] for name in FAILURE_METRICS if isinstance(metrics.get(name), bool)})
        if campaign.objective.kind == "target_stiffness":
            errors = campaign.objective.relative_errors(np.asarray(metrics["C"]))
            row.update({f"error C{i}{i}": float(e) for i, e in zip((1, 2, 3), errors)})
        rows.append(row)
    return rows


def _flagged_note(rows: Sequence[dict[str, Any]], flagged: list[str], what: str, tail: str) -> str | None:
    """``what`` and ``tail`` (with ``{}`` for its or their) said of the ranks ``flagged`` among ``rows``."""
    if not flagged:
        return None
    if len(rows) == 1:
        return f"This design {what}{tail.format('its')}"
    ranks = f"rank {flagged[0]}" if len(flagged) == 1 else f"ranks {', '.join(flagged)}"
    whose = "its" if len(flagged) == 1 else "their"
    return f"{len(flagged)} of these {len(rows)} designs ({ranks}) {what}{tail.format(whose)}"


def unbroken_note(rows: Sequence[dict[str, Any]]) -> str | None:
    """A sentence on the rows of :func:`best_rows` whose plate did not break, or None when every one broke."""
    unbroken = [str(row["rank"]) for row in rows if row.get("broke") is not None and not bool(row["broke"])]
    return _flagged_note(rows, unbroken,
                         "still carried load at the largest strain of the test (broke = False)",
                         ": {} toughness is a lower bound, the work done up to that strain.")


def grip_note(rows: Sequence[dict[str, Any]]) -> str | None:
    """A sentence on the rows of :func:`best_rows` whose plate failed partly along a grip, or None."""
    return _flagged_note(rows, [str(row["rank"]) for row in rows if row.get("along_grip") is True],
                         "failed partly along a grip (along_grip = True: a crack band runs more than 4ℓ along a "
                         "gripped edge)", ": {} strength and toughness describe the grip as well as the plate.")


#: A target-stiffness campaign whose best design misses C11, C22 or C33 by more than this (relative) has not
#: reached its target (:func:`target_note`).
TARGET_MISSED = 0.1


def target_note(rows: Sequence[dict[str, Any]]) -> str | None:
    """A sentence when the best design of a target-stiffness campaign (the rows of :func:`best_rows`) misses the
    target by more than :data:`TARGET_MISSED` on some diagonal term, or None (reached, or no target)."""
    if not rows or "error C11" not in rows[0]:
        return None
    errors = [rows[0][f"error C{i}{i}"] for i in (1, 2, 3)]
    if max(errors) <= TARGET_MISSED:
        return None
    return (f"The target is not reached: the best design misses it by {', '.join(f'{100 * e:.3g} %' for e in errors)} "
            f"on C11, C22, C33 (more than {100 * TARGET_MISSED:g} %). The target may lie outside what this design space "
            "reaches at its ρ range (no design comes nearer), or the campaign needs more solver calls.")


def plot_best_so_far(campaigns: Sequence[Campaign], path: str | Path | None = None) -> bytes:
    """PNG of the best value against solver calls, one line per campaign; written to ``path`` if given.

    Raises
    ------
    ValueError
        Campaigns of different objectives (their values have other meanings and units than one axis shows).
    """
    described = {c.name: c.objective.describe(c.evaluator) for c in campaigns}
    if len(set(described.values())) > 1:
        raise ValueError("one plot shows campaigns of one objective; these differ: "
                         + "; ".join(f"{name}: {objective}" for name, objective in described.items()))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter, PercentFormatter

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    values: list[float] = []
    for campaign in campaigns:
        trace = campaign.best_so_far()
        calls = np.arange(1, trace.size + 1)
        finite = np.isfinite(trace)
        shown = [campaign.objective.display(v, campaign.evaluator) for v in trace[finite]]
        values += shown
        ax.step(calls[finite], shown, where="post", label=f"{campaign.name} ({campaign.config.strategy})")
    if campaigns:
        ax.set_ylabel("best " + campaigns[0].objective.axis_label(campaigns[0].evaluator))
        if campaigns[0].objective.kind == "target_stiffness":  # errors span decades
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
            positive = [v for v in values if v > 0]
            narrow = bool(positive) and max(positive) < 3 * min(positive)  # too few 1-2-5 ticks: label the rest
            ax.yaxis.set_minor_formatter(PercentFormatter(1.0, decimals=0) if narrow else NullFormatter())
    ax.set_xlabel("solver calls")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole calls, also on a short axis
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


#: The file of a zip export that lists the parts unfit to print, and why.
PART_WARNINGS = "part_warnings.json"


def _design_files(result: Result, fmt: str) -> tuple[dict[str, bytes], list[str]]:
    """The printable files of a design (name → bytes) and what makes a spinodoid part unfit to print
    (:func:`designs.stl.part_warnings`; plates are closed bodies by construction), or no file and why,
    for a spinodoid of which nothing carries load."""
    from designs.stl import checked_stl, part_warnings, plate_stl, spinodoid_header, spinodoid_part
    from designs.threemf import plate_3mf

    design = result.candidate.design
    stem = f"design-{result.candidate.id}-{design.content_hash()[:12]}"
    if design.space == "spinodoid":
        if fmt == "3mf":
            raise ValueError("3MF export is for two-material plates; export spinodoids as stl")
        try:
            mesh, connectivity = spinodoid_part(design)
        except ValueError as exc:  # nothing of it carries load: no part to print
            return {}, [f"{stem}.stl not written: {exc}"]
        return ({f"{stem}.stl": checked_stl(mesh, spinodoid_header(design))},
                part_warnings(mesh, connectivity))
    grid = (design if design.space == "checkerboard" else design.expand()).as_array().T  # rows along x
    if fmt == "3mf":
        return {f"{stem}.3mf": plate_3mf(grid)}, []
    return {f"{stem}-{('soft', 'stiff')[k]}.stl": data for k, data in plate_stl(grid).items()}, []


def provenance(campaign: Campaign) -> dict[str, Any]:
    """Where a campaign's labels come from, for its exported files: the campaign and its objective,
    the solver (name, version, fidelity, hash of its settings) and, for an outdated campaign, why it
    is outdated (:attr:`engine.campaigns.campaign.Campaign.outdated`)."""
    key = campaign.key
    return {"campaign": campaign.name, "objective": campaign.objective.describe(campaign.evaluator),
            "solver": {"name": key.name, "version": key.version, "fidelity": key.fidelity,
                       "config_hash": key.config_hash},
            **({"outdated": campaign.outdated} if campaign.outdated else {})}


def _solver_text(origin: dict[str, Any]) -> str:
    """The solver of :func:`provenance` in one line, ``name version (fidelity, settings <hash12>)``, marked if
    outdated."""
    solver = origin["solver"]
    return (f"{solver['name']} {solver['version']} ({solver['fidelity']}, settings {solver['config_hash'][:12]})"
            + (" outdated" if "outdated" in origin else ""))


def export_best(campaign: Campaign, fmt: str = "json", k: int = 10) -> bytes:
    """The ``k`` best designs as a JSON array, JSON lines, CSV, or a zip of STL / 3MF files (mm).

    A JSON record holds the design (``space``, ``genome``, ``design_hash``: what ``matloop label`` reads
    back), its objective ``values`` (to maximise), its label's ``metrics`` and a ``provenance`` object
    (:func:`provenance`); a CSV row is a row of :func:`best_rows` with a ``solver`` column (``name version
    (fidelity, settings <hash12>)``, ``outdated`` appended for an outdated campaign); a zip holds the
    designs' files, ``provenance.json`` and, where a spinodoid part falls apart or joins no pair of opposite
    faces along an axis, :data:`PART_WARNINGS` (file name → sentences).

    Raises
    ------
    ValueError
        Unknown format, a format the design space has no use for, or no design with a value of the
        objective yet.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; allowed: {', '.join(EXPORT_FORMATS)}")
    best = campaign.best(k)
    if not best:
        labelled = len(campaign.results())
        raise ValueError(f"campaign {campaign.name!r} has no design with a value of its objective yet "
                         f"({labelled} of {campaign.spent} proposed designs labelled): nothing to export")
    origin = provenance(campaign)
    if fmt in ("json", "jsonl"):
        records = [{"space": r.candidate.design.space, "genome": r.candidate.design.genome(),
                    "design_hash": r.candidate.design.content_hash(), "values": [float(v) for v in r.values],
                    "metrics": r.evaluation.metrics, "provenance": origin} for r in best]
        if fmt == "json":
            return (json.dumps(records, indent=1) + "\n").encode()
        return "".join(json.dumps(record) + "\n" for record in records).encode()
    if fmt == "csv":
        rows = [{**row, "solver": _solver_text(origin)} for row in best_rows(campaign, k)]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue().encode()
    archive = io.BytesIO()
    unfit = {}
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for result in best:
            files, warnings = _design_files(result, fmt)
            for name, data in files.items():
                zipped.writestr(name, data)
            unfit.update(dict.fromkeys(files or [f"design-{result.candidate.id}"], warnings) if warnings else {})
        zipped.writestr("provenance.json", json.dumps(origin, indent=2) + "\n")
        if unfit:
            zipped.writestr(PART_WARNINGS, json.dumps(unfit, indent=2) + "\n")
    return archive.getvalue()
