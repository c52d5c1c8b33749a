"""Particle systems: generators (counts, density, distances, Lindemann ratio, labels), readers
and the messages for bad input.

Outside references: textbook atoms per cell, densities and nearest-neighbour distances;
SciPy KD-tree distances; the published Steinhardt q6 of fcc and hcp, which checks the true
labels of the fcc/hcp stacking layer by layer.
"""

from __future__ import annotations

import math
from pathlib import Path

import freud
import numpy as np
import pytest
from scipy.spatial import cKDTree

from engine.analysis.ordering import (
    ParticleSystem, fcc_hcp, lattice, lattice_sites, liquid, read_csv, read_xyz, slab_in_liquid,
    steinhardt,
)
from engine.analysis.ordering.liquids import sphere_diameter
from engine.analysis.ordering.configurations import generate
from engine.analysis.ordering.mixtures import slab_layers, stacking_labels
from engine.analysis.ordering.systems import minimum_image

# lattice → (atoms per conventional cell, density at unit nearest-neighbour distance, dim)
TEXTBOOK = {
    "sc": (1, 1.0, 3),
    "bcc": (2, 2 / (2 / math.sqrt(3)) ** 3, 3),
    "fcc": (4, math.sqrt(2), 3),
    "hcp": (4, math.sqrt(2), 3),
    "diamond": (8, 8 / (4 / math.sqrt(3)) ** 3, 3),
    "hexagonal": (2, 2 / math.sqrt(3), 2),
}
COORDINATION = {"sc": 6, "bcc": 8, "fcc": 12, "hcp": 12, "diamond": 4, "hexagonal": 6}


def _distances(system: ParticleSystem, k: int) -> np.ndarray:
    lengths = np.asarray(system.box.L, dtype=float)[: system.dim]
    pos = np.mod(system.positions + lengths / 2, lengths)
    pos[pos >= lengths] = 0.0
    return cKDTree(pos, boxsize=lengths).query(pos, k + 1)[0][:, 1:]


@pytest.mark.parametrize("kind", list(TEXTBOOK))
def test_perfect_lattices_have_textbook_counts_density_and_shells(kind: str) -> None:
    per_cell, density, dim = TEXTBOOK[kind]
    nn = 1.3
    system = lattice(kind, 3, nn_distance=nn)
    assert system.dim == dim
    assert system.n_particles == per_cell * 3 ** dim
    assert system.density == pytest.approx(density / nn ** dim, rel=1e-6)  # freud boxes are float32
    z = COORDINATION[kind]
    d = _distances(system, z + 1)
    np.testing.assert_allclose(d[:, :z], nn, rtol=1e-6)
    assert (d[:, z] > nn * 1.1).all()  # a gap before the next shell
    assert set(system.labels) == {kind}


@pytest.mark.parametrize("kind", ["fcc", "bcc", "hexagonal"])
@pytest.mark.parametrize("ratio", [0.05, 0.1])
def test_lindemann_ratio_is_measured_back(kind: str, ratio: float) -> None:
    n = 8 if kind != "hexagonal" else 30
    sites, box = lattice_sites(kind, n, nn_distance=1.2)
    system = lattice(kind, n, nn_distance=1.2, lindemann=ratio, seed=17)
    u = minimum_image(system.positions - sites, box)
    measured = math.sqrt(np.mean(np.sum(u ** 2, axis=1))) / 1.2
    # rms of ~2000 vectors: relative standard error ~ 1/sqrt(2 N) ≈ 1.6 %
    assert measured == pytest.approx(ratio, rel=0.05)
    assert np.abs(u.mean(axis=0)).max() < 0.1 * ratio  # isotropic, unbiased


def test_generators_are_seeded() -> None:
    a = lattice("fcc", 3, lindemann=0.1, seed=4).positions
    assert np.array_equal(a, lattice("fcc", 3, lindemann=0.1, seed=4).positions)
    assert not np.array_equal(a, lattice("fcc", 3, lindemann=0.1, seed=5).positions)
    assert np.array_equal(liquid(300, 1.0, seed=2).positions, liquid(300, 1.0, seed=2).positions)


@pytest.mark.parametrize("dim", [3, 2])
def test_liquid_has_the_density_no_overlaps_and_no_order(dim: int) -> None:
    density = math.sqrt(2) if dim == 3 else 2 / math.sqrt(3)
    system = liquid(800, density, dim=dim, seed=3)
    assert system.n_particles == 800
    assert system.density == pytest.approx(density, rel=1e-6)
    sigma = sphere_diameter(density, dim)
    assert _distances(system, 1).min() >= sigma * (1 - 1e-3)
    assert set(system.labels) == {"liquid"}
    if dim == 3:
        q6 = steinhardt(system, 6)[:, 0]
        assert q6.mean() < 0.36  # perfect fcc 0.575, hcp 0.485, bcc 0.51


def test_crystal_slab_in_liquid_has_true_labels() -> None:
    system = slab_in_liquid("fcc", 6, lindemann=0.03, seed=1)
    crystal = lattice("fcc", 6)
    assert system.n_particles == crystal.n_particles
    assert system.density == pytest.approx(crystal.density)
    lz = float(system.box.Lz)
    is_fcc = system.labels == "fcc"
    assert set(system.labels) == {"fcc", "liquid"}
    assert (np.abs(system.positions[is_fcc, 2]) < lz / 4 + 0.2).all()
    # the labels agree with the local order: q6 of crystal and liquid barely overlap
    q6 = steinhardt(system, 6)[:, 0]
    assert np.median(q6[is_fcc]) > 0.5 and np.median(q6[~is_fcc]) < 0.36


def _crystal_layers(system, kind: str, layers_per_box: int) -> np.ndarray:
    """Crystal particles per lattice layer normal to z, read off the noisy positions: sites sit
    at ``-Lz/2 + k Lz / layers_per_box`` (lattice_sites), noise is far below half a spacing."""
    lz = float(system.box.Lz)
    z = system.positions[system.labels == kind, 2]
    k = np.round((z + lz / 2) / (lz / layers_per_box)).astype(int) % layers_per_box
    return np.bincount(k, minlength=layers_per_box)


# lattice → layers normal to z per unit cell (sc 1; bcc, fcc, hcp 2; diamond 4)
LAYERS_PER_CELL = {"sc": 1, "bcc": 2, "fcc": 2, "hcp": 2, "diamond": 4}


@pytest.mark.parametrize("kind", list(LAYERS_PER_CELL))
def test_slabs_are_whole_layers_for_every_cells_value_and_fraction_of_the_page(kind: str) -> None:
    """Issue 14: generate("slab", cells=9) cut through a layer (0.55 × 18 = 9.9 layers), and
    slab_in_liquid's own 0.5 did at 6 and 8 cells: the layer's noisy particles fell on both
    sides, leaving single "fcc" particles in the liquid. The slab is now whole layers, the
    fraction rounded half up, for every cells value (page: 1-20) and fraction (0.1-0.9)."""
    if kind == "sc":  # one layer per cell: 1 cell leaves no room for liquid, and says so
        with pytest.raises(ValueError, match="at least 2 lattice layers.*use 2 cells or more"):
            slab_layers(kind, 1, 0.55)
    for cells in range(1 + (kind == "sc"), 21):
        sites, box = lattice_sites(kind, cells)
        total = LAYERS_PER_CELL[kind] * cells
        per_layer = len(sites) // total
        for fraction in np.round(np.arange(0.1, 0.91, 0.05), 2):
            in_slab, layers, layer_count = slab_layers(kind, cells, float(fraction))
            assert layer_count == total
            assert layers == min(max(math.floor(fraction * total + 0.5), 1), total - 1), (cells, fraction)
            k = np.round((sites[in_slab, 2] + box.Lz / 2) / (box.Lz / total)).astype(int) % total
            counts = np.bincount(k, minlength=total)
            assert set(counts.tolist()) <= {0, per_layer}, (cells, fraction)  # whole layers only
            # one contiguous block (periodic): as many starts of an occupied run as 1
            occupied = counts > 0
            assert occupied.sum() == layers and (occupied & ~np.roll(occupied, 1)).sum() == 1


@pytest.mark.parametrize("cells", [1, 2, 9, 11, 12])
def test_generated_slabs_have_whole_layers_and_no_liquid_inside(cells: int) -> None:
    """The CLI's and page's slab (fcc, fraction 0.55) at the boundary cells values and those of
    the issue: 9 cut a layer; 11 and 12 failed with "liquid does not fit" because the first,
    unlimited overlap-removal step threw a liquid particle into an interstitial hole of the fixed
    crystal, where it stayed stuck for 5000 steps."""
    system = generate("slab", cells=cells)
    total = 2 * cells
    counts = _crystal_layers(system, "fcc", total)
    layers = min(max(math.floor(0.55 * total + 0.5), 1), total - 1)
    assert sorted(set(counts.tolist())) == [0, system.n_particles // total]
    assert (counts > 0).sum() == layers
    # no liquid particle between the slab's outer layers (inside the crystal)
    z_fcc = system.positions[system.labels == "fcc", 2]
    z_liquid = system.positions[system.labels == "liquid", 2]
    spacing = float(system.box.Lz) / total
    assert not ((z_liquid > z_fcc.min() + 0.3 * spacing) & (z_liquid < z_fcc.max() - 0.3 * spacing)).any()
    # and no two particles overlap beyond the removal's tolerance (KD-tree distances)
    sigma = sphere_diameter(system.density, 3)
    tree = cKDTree(np.mod(system.positions + system.box.L / 2, system.box.L), boxsize=system.box.L)
    pairs = tree.query_pairs(sigma * (1 - 2e-3), output_type="ndarray")
    assert (system.labels[pairs] == "fcc").all(axis=1).all()  # only crystal–crystal pairs may be close


def test_slab_in_liquid_default_fraction_is_whole_layers_at_6_and_8_cells() -> None:
    for cells in (6, 8):
        system = slab_in_liquid("fcc", cells, lindemann=0.05, seed=0)
        counts = _crystal_layers(system, "fcc", 2 * cells)
        assert sorted(set(counts.tolist())) == [0, system.n_particles // (2 * cells)]
        assert (counts > 0).sum() == cells  # 0.5 × 2n layers


@pytest.mark.parametrize("cells, fraction", [(3, 0.9), (8, 0.99)])
def test_a_liquid_layer_too_thin_for_its_particles_is_refused_with_advice(cells: int, fraction: float) -> None:
    """A thick slab leaves the liquid a gap thinner than it needs at the crystal's density: the
    overlap removal cannot finish, and the message says why and what to change (it was a
    RuntimeError traceback from the CLI and the page)."""
    with pytest.raises(ValueError, match="do not fit.*more unit cells or a slab fraction"):
        slab_in_liquid("fcc", cells, slab_fraction=fraction, lindemann=0.05, seed=0)


def test_fcc_hcp_stacking_labels_match_the_published_q6_layer_by_layer() -> None:
    system = fcc_hcp(4, fcc_layers=6, hcp_layers=6)
    assert system.n_particles == 2 * 4 * 4 * 12
    assert system.density == pytest.approx(math.sqrt(2), rel=1e-6)
    q6 = steinhardt(system, 6)[:, 0]
    np.testing.assert_allclose(q6[system.labels == "fcc"], 0.57452, atol=1e-4)
    np.testing.assert_allclose(q6[system.labels == "hcp"], 0.48476, atol=1e-4)
    assert stacking_labels("ABCABCABABAB").count("hcp") == 6  # first A layer sits between B's


# --- readers --------------------------------------------------------------------------------

def test_xyz_round_trip(tmp_path: Path) -> None:
    system = lattice("bcc", 2, lindemann=0.05, seed=2)
    lengths = np.asarray(system.box.L, dtype=float)
    corner = system.positions + lengths / 2
    lines = [str(system.n_particles),
             f'Lattice="{lengths[0]} 0 0 0 {lengths[1]} 0 0 0 {lengths[2]}" pbc="T T T"']
    lines += [f"Ar {x:.12f} {y:.12f} {z:.12f} 7" for x, y, z in corner]
    path = tmp_path / "bcc.xyz"
    path.write_text("\n".join(lines) + "\n")
    read = read_xyz(path)
    np.testing.assert_allclose(minimum_image(read.positions - system.positions, read.box), 0,
                               atol=1e-9)
    assert set(read.species) == {"Ar"}
    np.testing.assert_allclose(steinhardt(read, 6, neighbors=8), steinhardt(system, 6, neighbors=8),
                               atol=1e-5)


def test_csv_round_trip_2d_with_labels(tmp_path: Path) -> None:
    system = lattice("hexagonal", 4, lindemann=0.02, seed=6)
    text = f"# box: {system.box.Lx} {system.box.Ly}\n# periodic: T T\nx,y,label\n"
    text += "".join(f"{float(x)!r},{float(y)!r},hex\n" for x, y in system.positions)
    path = tmp_path / "hex.csv"
    path.write_text(text)
    read = read_csv(path)
    assert read.dim == 2 and read.n_particles == system.n_particles
    np.testing.assert_allclose(read.positions, system.positions, atol=1e-12)
    assert set(read.labels) == {"hex"}


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty file; an XYZ file starts with the particle count"),
    ("two\n\nA 0 0 0\n", r"line 1: expected the particle count \(an integer\), got 'two'"),
    ('3\nLattice="5 0 0 0 5 0 0 0 5"\nA 0 0 0\nA 1 1 1\n', "declares 3 particles but only 2"),
    ('1\nLattice="5 0 0 0 5 0 0 0 5"\nA 0 zero 0\n', "line 3: coordinates x y z must be numbers"),
    ('1\nLattice="5 0 0 0 5 0 0 0 5"\nA 0 0\n', "line 3: expected 'species x y z'"),
    ("1\nplain comment\nA 0 0 0\n", "no box; give line 2 an extended-XYZ Lattice"),
    ('1\nLattice="5 1 0 0 5 0 0 0 5"\nA 0 0 0\n', "LAMMPS form"),
    ('2\nLattice="5 0 0 0 5 0 0 0 5"\nA 0 0 0\nA nan 1 1\n',
     r"1 particle\(s\) have NaN or infinite coordinates \(first: line 4, x y z = nan 1.0 1.0\)"),
    # the file's own coordinates and the box where the file puts it (corner origin), not centred ones
    ('2\nLattice="5 0 0 0 5 0 0 0 5" pbc="T T F"\nA 1 1 1\nA 1 1 7\n',
     r"outside the non-periodic box \(first: line 4, z = 7.0\).*z in \[0, 5\]"),
    # a count smaller than the rows is not silently truncated (only a next frame may follow)
    ('2\nLattice="5 0 0 0 5 0 0 0 5"\nA 0 0 0\nA 1 1 1\nA 2 2 2\n', "declares 2 particles but 3 particle lines"),
    ('1\nLattice="nan 0 0 0 5 0 0 0 5"\nA 0 0 0\n', "Lattice entries must be finite"),
])
def test_bad_xyz_files_get_clear_messages(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.xyz"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_xyz(path)


@pytest.mark.parametrize(("text", "message"), [
    ("x,y,z\n0,0,0\n", r"no box; add a header line '# box: Lx Ly Lz'"),
    ("# box: 5 -5 5\nx,y,z\n0,0,0\n", "box must be 'Lx Ly' .* with lengths > 0"),
    ("# box: 5 5 5\nx,y\n0,0\n", r"missing column\(s\) z; a 3D box needs x, y, z"),
    ("# box: 5 5 5\nx,y,z\n0,0,abc\n", "line 3: coordinates must be numbers"),
    ("# box: 5 5 5\nx,y,z\n0,0\n", "line 3: 2 fields but the header has 3"),
    ("# box: 5 5 5\n# periodic: T T maybe\nx,y,z\n0,0,0\n", "periodic flags must be 3 values"),
    ("# box: 5 5 5\n# periodic: T T F\nx,y,z\n0,0,2.6\n", "outside the non-periodic box"),
    ("# box: 5 5 5\nx,y,z\n", "no particle rows"),
    # a NaN or infinite box once hung the classifiers; a 2D box must not silently drop a z column
    ("# box: nan 5 5\nx,y,z\n0,0,0\n", r"with lengths > 0 \(finite numbers\)"),
    ("# box: inf inf inf\nx,y,z\n0,0,0\n", r"with lengths > 0 \(finite numbers\)"),
    ("# box: 5 5\nx,y,z\n0,0,1\n", "2D box .* but the columns include z"),
    # duplicated rows once came out as 100 % 'other' with confidence 1.000, without a word
    ("# box: 5 5 5\nx,y,z\n0,0,0\n1,1,1\n1,1,1\n", r"1 particle\(s\) sit exactly on another one \(first: lines 4 and 5"),
])
def test_bad_csv_files_get_clear_messages(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_csv(path)


def test_spreadsheet_bom_extended_xyz_properties_and_a_repeated_box(tmp_path: Path) -> None:
    """Files a stranger brought: a CSV saved as "CSV UTF-8" (byte-order mark first) keeps its box;
    an extended XYZ with Properties reads x, y, z from the pos columns (a mass column before them
    was read as x); a second '# box:' line is refused instead of silently winning."""
    system = lattice("fcc", 2, lindemann=0.05, seed=0)
    L = float(system.box.Lx)
    rows = "\n".join(f"{x},{y},{z}" for x, y, z in system.positions)
    bom = tmp_path / "bom.csv"
    bom.write_text(f"\ufeff# box: {L} {L} {L}\nx,y,z\n{rows}\n", encoding="utf-8")
    np.testing.assert_allclose(read_csv(bom).positions, system.positions, atol=1e-12)
    twice = tmp_path / "twice.csv"
    twice.write_text(f"# box: {L} {L} {L}\n# box: 100 100 100\nx,y,z\n{rows}\n")
    with pytest.raises(ValueError, match=r"twice\.csv, line 2: a second '# box:' line"):
        read_csv(twice)
    corner = system.positions + L / 2
    lattice_words = f'Lattice="{L} 0 0 0 {L} 0 0 0 {L}" pbc="T T T"'
    body = "\n".join(f"7 1.5 Ar {x} {y} {z}" for x, y, z in corner)
    xyz = tmp_path / "props.xyz"
    xyz.write_text(f"{len(corner)}\n{lattice_words} Properties=id:I:1:mass:R:1:species:S:1:pos:R:3\n{body}\n")
    read = read_xyz(xyz)
    np.testing.assert_allclose(read.positions, system.positions, atol=1e-9)
    assert set(read.species) == {"Ar"}
    nopos = tmp_path / "nopos.xyz"
    nopos.write_text(f"{len(corner)}\n{lattice_words} Properties=species:S:1:r:R:3\n{body}\n")
    with pytest.raises(ValueError, match="Properties has no 'pos:R:3' column"):
        read_xyz(nopos)


def test_particle_system_validates_its_arrays() -> None:
    box = freud.box.Box.cube(4.0)
    with pytest.raises(ValueError, match="box lengths must be finite numbers > 0"):
        ParticleSystem(np.zeros((5, 3)), freud.box.Box(math.nan, 4.0, 4.0))
    with pytest.raises(ValueError, match=r"positions must have shape \(N, 3\) for a 3D box"):
        ParticleSystem(np.zeros((5, 2)), box)
    with pytest.raises(ValueError, match=r"labels must have one entry per particle, shape \(5,\)"):
        ParticleSystem(np.arange(15.0).reshape(5, 3) / 8, box, labels=["fcc"] * 4)
    with pytest.raises(ValueError, match="unknown lattice 'bct'; allowed: sc, bcc, fcc"):
        lattice("bct", 3)
    with pytest.raises(ValueError, match="lindemann must be a finite number >= 0"):
        lattice("fcc", 3, lindemann=-0.1)
    with pytest.raises(ValueError, match="neighbouring layers .* must sit on different positions"):
        from engine.analysis.ordering import stacking

        stacking("ABCA")


def test_periodic_positions_are_wrapped_and_read_only() -> None:
    system = ParticleSystem(np.array([[2.5, -2.6, 0.0]]), freud.box.Box.cube(4.0))
    np.testing.assert_allclose(system.positions, [[-1.5, 1.4, 0.0]])
    with pytest.raises(ValueError):
        system.positions[0, 0] = 1.0


def test_plain_xyz_with_a_given_box_leaves_that_box_alone(tmp_path: Path) -> None:
    path = tmp_path / "plain.xyz"
    path.write_text("2\nno lattice here\nA 0.5 0.5 0.5\nB 1.5 0.5 0.5\n")
    box = freud.box.Box.cube(4.0)
    box.periodic = [True, True, False]
    system = read_xyz(path, box=box)
    np.testing.assert_allclose(system.positions, [[-1.5, -1.5, -1.5], [-0.5, -1.5, -1.5]])
    assert system.periodic == (True, True, False)
    box.periodic = [False] * 3  # the system keeps its own copy
    assert system.periodic == (True, True, False)
    assert list(system.species) == ["A", "B"]
