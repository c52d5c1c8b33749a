"""Designs in and out of the library: upload a design file, export designs as JSON and plates for printing.

An upload is checked whole before anything is stored (:func:`designs.registry.parse_designs`
reports every bad record), then stored in one transaction; designs the store already holds are
reported as such. Exports: the designs as the same JSON the upload reads (a round trip gives
the same designs and hashes), and block plates as a zip of one 3MF (both materials as named
bodies) and/or one STL per material for each plate.
"""

from __future__ import annotations

import io
import json
import math
import numbers
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from designs.base import Design, canonical_json
from designs.checkerboard import Checkerboard
from designs.hierarchical import Hierarchical
from designs.registry import design_from_record, parse_designs
from designs.stl import plate_stl
from designs.threemf import plate_3mf
from engine.store import Store

__all__ = [
    "BLOCK_EDGE_RANGE_MM",
    "MAX_PLATES",
    "MAX_UPLOAD_BYTES",
    "PLATE_FORMATS",
    "THICKNESS_RANGE_MM",
    "PlateArchive",
    "UploadReport",
    "add_design_file",
    "check_plate_size",
    "designs_json",
    "plate_blocks",
    "plates_zip",
]

#: Largest design file the library accepts (bytes): 10 MiB, some 4 000 designs of 32×32 blocks.
MAX_UPLOAD_BYTES = 10 * 2**20
#: Allowed block edge of a printed plate (mm), both ends included.
BLOCK_EDGE_RANGE_MM = (0.5, 50.0)
#: Allowed plate thickness (mm), both ends included.
THICKNESS_RANGE_MM = (0.2, 50.0)
#: Most plates in one zip (each 3MF of a 32×32 plate is a few hundred kB).
MAX_PLATES = 100
#: Print formats of :func:`plates_zip`.
PLATE_FORMATS = ("3mf", "stl")


@dataclass(frozen=True)
class UploadReport:
    """What an upload stored.

    Attributes
    ----------
    designs : tuple of str
        Hashes of the file's designs, in file order, each once.
    new : tuple of str
        Those stored by this upload.
    already_stored : tuple of str
        Those the store held before.
    repeated : int
        Records that repeat an earlier record of the same file (stored once).
    """

    designs: tuple[str, ...]
    new: tuple[str, ...]
    already_stored: tuple[str, ...]
    repeated: int

    def summary(self) -> str:
        """One sentence for the page, e.g. ``"3 designs: 2 new, 1 already in the store."``."""
        text = f"{len(self.designs)} design{'s' * (len(self.designs) != 1)}: {len(self.new)} new, " \
               f"{len(self.already_stored)} already in the store"
        return text + (f"; {self.repeated} repeated record{'s' * (self.repeated != 1)} in the file counted once."
                       if self.repeated else ".")


def add_design_file(store: Store, data: str | bytes, source: str = "the upload",
                    max_bytes: int | None = MAX_UPLOAD_BYTES) -> UploadReport:
    """Store the designs of a design file (JSON list or JSON lines of ``{"space", "genome"}``), all or none.

    Parameters
    ----------
    store : Store
        Where the designs go.
    data : str or bytes
        The file's content.
    source : str
        The file's name in messages.
    max_bytes : int or None
        Size limit in bytes (default :data:`MAX_UPLOAD_BYTES`, 10 MiB); None: no limit.

    Returns
    -------
    UploadReport
        Which designs are new and which the store already held.

    Raises
    ------
    designs.registry.DesignFileError
        A ``ValueError`` listing every bad record; nothing is stored.
    """
    designs = parse_designs(data, source, max_bytes=max_bytes)
    hashes = list(dict.fromkeys(design.content_hash() for design in designs))
    known = {record.hash for record in store.designs(hashes=hashes)}
    store.add_designs(designs)  # one transaction
    return UploadReport(designs=tuple(hashes), new=tuple(h for h in hashes if h not in known),
                        already_stored=tuple(h for h in hashes if h in known), repeated=len(designs) - len(hashes))


def _stored_designs(store: Store, hashes: Sequence[str]) -> list[Design]:
    """The designs with ``hashes``, in that order; ``ValueError`` naming the ones the store lacks."""
    records = {record.hash: record for record in store.designs(hashes=hashes)}
    missing = [h for h in hashes if h not in records]
    if missing:
        raise ValueError(f"{len(missing)} design(s) are not in the store: {', '.join(h[:12] for h in missing[:5])}")
    return [design_from_record(records[h].space, records[h].genome) for h in hashes]


def designs_json(store: Store, hashes: Sequence[str]) -> str:
    """The designs with ``hashes`` as a JSON list of ``{"space", "genome"}`` objects, one per line.

    The file the upload and ``matloop label FILE`` read: uploading it gives the same designs
    (same hashes). Repeated hashes are written once.

    Raises
    ------
    ValueError
        A hash that is not in the store.
    """
    designs = _stored_designs(store, list(dict.fromkeys(hashes)))
    lines = [canonical_json({"space": d.space, "genome": d.genome()}) for d in designs]
    return "[\n" + ",\n".join(lines) + "\n]\n"


def check_plate_size(block_edge_mm: object, thickness_mm: object) -> tuple[float, float]:
    """The block edge and thickness (mm) as floats; ``ValueError`` unless each lies in its range.

    Ranges: :data:`BLOCK_EDGE_RANGE_MM` (0.5–50 mm) and :data:`THICKNESS_RANGE_MM` (0.2–50 mm).
    A value outside is refused, never replaced by another.
    """
    out = []
    for name, value, (low, high) in (("block edge", block_edge_mm, BLOCK_EDGE_RANGE_MM),
                                     ("thickness", thickness_mm, THICKNESS_RANGE_MM)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
                or not low <= value <= high:
            raise ValueError(f"the {name} must be a number of millimetres from {low:g} to {high:g} mm, got {value!r}")
        out.append(float(value))
    return out[0], out[1]


def plate_blocks(design: Design) -> tuple[np.ndarray, tuple[str, ...]]:
    """Block types of a plate design as the print functions take them, and the names of the types.

    Returns
    -------
    blocks : numpy.ndarray
        (columns, rows) block types: first index along x (from the cracked left edge), second
        along y (from the bottom), as :func:`designs.stl.plate_meshes` expects.
    palette : tuple of str
        Name of each block type (hierarchical designs: their soft/stiff blocks).

    Raises
    ------
    ValueError
        ``design`` is not a block plate (e.g. a spinodoid).
    """
    if isinstance(design, Hierarchical):
        fine = design.expand()
        return fine.as_array().T, fine.palette
    if isinstance(design, Checkerboard):
        return design.as_array().T, design.palette
    raise ValueError(f"a {design.space} design is not a block plate; only checkerboard and hierarchical designs print "
                     "as plates")


@dataclass(frozen=True)
class PlateArchive:
    """A zip of printable plates: ``data`` (the zip), ``plates`` (hashes in it), ``skipped`` (not plates)."""

    data: bytes
    plates: tuple[str, ...]
    skipped: tuple[str, ...]


def _file_part(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "material"


def plates_zip(store: Store, hashes: Sequence[str], block_edge_mm: float, thickness_mm: float,
               formats: Sequence[str] = PLATE_FORMATS) -> PlateArchive:
    """A zip with the printable plates of the designs ``hashes``.

    Parameters
    ----------
    store : Store
        Holds the designs.
    hashes : sequence of str
        Designs to export; those that are not block plates (spinodoids) are skipped.
    block_edge_mm : float
        Edge of a square block in mm, in :data:`BLOCK_EDGE_RANGE_MM`.
    thickness_mm : float
        Plate thickness in mm, in :data:`THICKNESS_RANGE_MM`.
    formats : sequence of {"3mf", "stl"}
        ``3mf``: ``plate-<hash12>.3mf``, one file with a named body per material
        (:func:`designs.threemf.plate_3mf`); ``stl``: ``plate-<hash12>-<material>.stl`` per
        material (:func:`designs.stl.plate_stl`).

    Returns
    -------
    PlateArchive
        The zip (also holding ``designs.json`` of its plates and a ``README.txt`` with sizes and
        axes), which designs it holds and which were skipped.

    Raises
    ------
    ValueError
        Sizes out of range, unknown formats, no plate among the designs, more than
        :data:`MAX_PLATES` plates, or a hash not in the store.
    """
    edge, thickness = check_plate_size(block_edge_mm, thickness_mm)
    formats = tuple(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in PLATE_FORMATS]
    if unknown or not formats:
        raise ValueError(f"plate formats must be some of {', '.join(PLATE_FORMATS)}, got {list(formats)}")
    hashes = list(dict.fromkeys(hashes))
    designs = _stored_designs(store, hashes)
    plates = [(h, d) for h, d in zip(hashes, designs) if isinstance(d, (Checkerboard, Hierarchical))]
    skipped = tuple(h for h, d in zip(hashes, designs) if not isinstance(d, (Checkerboard, Hierarchical)))
    if not plates:
        raise ValueError("none of the selected designs is a block plate (checkerboard or hierarchical)")
    if len(plates) > MAX_PLATES:
        raise ValueError(f"{len(plates)} plates selected; at most {MAX_PLATES} go into one zip")
    buffer = io.BytesIO()
    readme = [f"matloop plates: block edge {edge:g} mm, thickness {thickness:g} mm; units mm.",
              "x runs along the columns of the design (the edge crack is at x = 0, mid-height), y along its rows "
              "(row 0 at y = 0), z through the thickness.",
              "3MF: one file per plate with one named body per material; STL: one file per material.", ""]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for design_hash, design in plates:
            blocks, palette = plate_blocks(design)
            stem = f"plate-{design_hash[:12]}"
            if "3mf" in formats:
                archive.writestr(f"{stem}.3mf", plate_3mf(blocks, edge, thickness, palette=palette))
            if "stl" in formats:
                for value, data in plate_stl(blocks, edge, thickness).items():
                    archive.writestr(f"{stem}-{_file_part(palette[value])}.stl", data)
            n_x, n_y = blocks.shape
            readme.append(f"{stem}: {design.space} {design_hash}, {n_y}×{n_x} blocks, "
                          f"{n_x * edge:g} mm × {n_y * edge:g} mm × {thickness:g} mm")
        archive.writestr("designs.json", designs_json(store, [h for h, _ in plates]))
        archive.writestr("README.txt", "\n".join(readme) + "\n")
    return PlateArchive(buffer.getvalue(), tuple(h for h, _ in plates), skipped)
