"""Link detections across frames into tracks with trackpy (Crocker & Grier 1996).

A thin wrapper: :func:`trackpy.link` does the work; this module checks the inputs, keeps
trackpy's per-frame log messages out of the output and returns a clean track table.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import trackpy

from .table import check_tracks

__all__ = ["link_tracks", "quiet_trackpy", "tracks_from_table"]


def link_tracks(detections: pd.DataFrame, search_range: float, *, memory: int = 0) -> pd.DataFrame:
    """Link detections (columns ``frame, x, y``) into tracks.

    Parameters
    ----------
    detections : pandas.DataFrame
        Columns ``frame, x, y`` (extra columns kept). A ``particle`` column is ignored and
        replaced.
    search_range : float
        Largest distance a particle moves between consecutive frames (or across a gap of up
        to ``memory`` frames), in the unit of ``x, y`` (> 0).
    memory : int, default 0
        Frames a particle may go undetected and still keep its track (≥ 0).

    Returns
    -------
    pandas.DataFrame
        The detections with a ``particle`` column (int64, 0 … n − 1 in order of first
        appearance), sorted by particle, then frame.

    Raises
    ------
    ValueError
        Bad detections (:func:`.table.check_tracks`), ``search_range`` not a finite number > 0,
        ``memory`` not an integer ≥ 0, or a crowded region trackpy cannot resolve within
        ``search_range`` (the message suggests a smaller one).
    """
    if not (isinstance(search_range, int | float) and math.isfinite(search_range) and search_range > 0):
        raise ValueError(f"search_range must be a finite number > 0 in the unit of x, y; got {search_range!r}")
    if isinstance(memory, bool) or not isinstance(memory, int) or memory < 0:
        raise ValueError(f"memory must be an integer >= 0 (frames); got {memory!r}")
    table = check_tracks(detections.drop(columns=["particle"], errors="ignore"))
    try:
        with quiet_trackpy():
            linked = trackpy.link(table, float(search_range), pos_columns=["x", "y"], t_column="frame",
                                  memory=memory)
    except trackpy.SubnetOversizeException:
        raise ValueError(f"too many candidate links in a crowded region with search_range {search_range}; "
                         "use a smaller search_range") from None
    order = pd.unique(linked["particle"])
    linked["particle"] = linked["particle"].map({p: i for i, p in enumerate(order)}).astype("int64")
    return linked.sort_values(["particle", "frame"], kind="stable").reset_index(drop=True)


def tracks_from_table(table: pd.DataFrame, *, search_range: float | None = None, memory: int = 0) -> pd.DataFrame:
    """Tracks from a table: its own ``particle`` column, or linked with trackpy if it has none.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``frame, x, y[, particle]``.
    search_range : float or None
        Needed when ``table`` has no ``particle`` column (:func:`link_tracks`); ignored otherwise.
    memory : int, default 0
        As :func:`link_tracks`.

    Returns
    -------
    pandas.DataFrame
        Checked track table sorted by particle, then frame.

    Raises
    ------
    ValueError
        As :func:`.table.check_tracks` and :func:`link_tracks`, or no particle column and no
        ``search_range``.
    """
    if isinstance(table, pd.DataFrame) and "particle" in [str(c).strip().lower() for c in table.columns]:
        return check_tracks(table, require_particle=True)
    if search_range is None:
        raise ValueError("the table has no particle column: give search_range (and memory) to link the "
                         "detections into tracks")
    return link_tracks(table, search_range, memory=memory)


@contextmanager
def quiet_trackpy() -> Iterator[None]:
    """Raise trackpy's logger to WARNING for the duration, then restore its level.

    Also hides the deprecation warnings trackpy 0.7 triggers in pandas ≥ 3 (its own code, not
    ours) while linking or locating.
    """
    logger = logging.getLogger("trackpy")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module="trackpy")
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="trackpy")
            yield
    finally:
        logger.setLevel(level)
