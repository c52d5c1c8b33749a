"""Generated configurations by name, and files written the way the readers read them back."""

from __future__ import annotations

import re
from pathlib import Path

import freud
import numpy as np
import pytest

from engine.analysis.ordering import ParticleSystem, lattice
from engine.analysis.ordering.configurations import (
    GENERATORS, MAX_SEED, generate, read_configuration, write_configuration,
)


@pytest.mark.parametrize(("kind", "options", "n", "labels"), [
    ("lattice", {"structure": "bcc", "cells": 4}, 2 * 4**3, {"bcc"}),
    ("lattice", {"structure": "hexagonal", "cells": 5}, 2 * 5**2, {"hexagonal"}),
    ("liquid", {"particles": 300}, 300, {"liquid"}),
    ("slab", {"cells": 4}, 4 * 4**3, {"fcc", "liquid"}),
    ("fcc-hcp", {"cells": 3, "fcc_layers": 6, "hcp_layers": 4}, 2 * 9 * 10, {"fcc", "hcp"}),
])
def test_generators_give_the_documented_sizes_and_true_labels(kind: str, options: dict, n: int, labels: set) -> None:
    system = generate(kind, **options)
    assert system.n_particles == n and set(system.labels) == labels
    again = generate(kind, **options)
    np.testing.assert_array_equal(system.positions, again.positions)  # seeded
    assert set(GENERATORS[kind]) >= set(options)


def test_lindemann_ratio_is_the_rms_displacement_over_the_neighbour_distance() -> None:
    noisy = generate("lattice", structure="fcc", cells=6, lindemann=0.08, seed=5)
    perfect = lattice("fcc", 6)
    box = perfect.box
    d = np.asarray(box.wrap(noisy.positions - perfect.positions))
    assert np.sqrt(np.mean(np.sum(d**2, axis=1))) == pytest.approx(0.08, rel=0.03)


@pytest.mark.parametrize(("kind", "options", "message"), [
    ("gas", {}, "unknown configuration kind 'gas'; allowed: lattice, liquid, slab, fcc-hcp"),
    ("lattice", {"structure": "bct"}, "unknown structure 'bct'"),
    ("lattice", {"lindemann": 0.9}, r"lindemann must lie in \[0, 0.5\]"),
    ("lattice", {"cells": 0}, "cells must be a positive integer"),
    ("liquid", {"particles": 1}, "particles must be an integer >= 2"),  # not the internal name n_particles
    ("lattice", {"cells": 100}, "holds 4000000 particles; at most 200000"),
    ("liquid", {"structure": "fcc"}, r"unknown option\(s\) structure for a liquid"),
    ("slab", {"structure": "hexagonal"}, "a slab needs a 3D structure"),
    ("fcc-hcp", {"fcc_layers": 4}, "fcc_layers must be a positive multiple of 3"),
])
def test_bad_generator_settings_are_value_errors(kind: str, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(kind, **options)


@pytest.mark.parametrize("suffix", ["csv", "xyz"])
def test_written_files_read_back_exactly(tmp_path: Path, suffix: str) -> None:
    system = generate("slab", cells=3, seed=2)
    path = write_configuration(system, tmp_path / f"slab.{suffix}")
    back = read_configuration(path)
    np.testing.assert_allclose(back.positions, system.positions, rtol=0, atol=1e-12)
    np.testing.assert_allclose(back.box.L, system.box.L, rtol=1e-15)
    assert back.periodic == system.periodic
    if suffix == "csv":
        np.testing.assert_array_equal(back.labels, system.labels)


def test_tilted_non_periodic_2d_box_survives_csv(tmp_path: Path) -> None:
    box = freud.box.Box(Lx=4.0, Ly=3.0, Lz=5.0, xy=0.5, xz=0.0, yz=0.25)
    box.periodic = [True, False, True]
    system = ParticleSystem(np.array([[0.1, 0.2, 0.3], [-1.0, 1.0, 2.0]]), box)
    back = read_configuration(write_configuration(system, tmp_path / "t.csv"))
    assert (back.box.xy, back.box.yz) == (0.5, 0.25) and back.periodic == (True, False, True)
    np.testing.assert_allclose(back.positions, system.positions, atol=1e-12)
    flat = generate("lattice", structure="hexagonal", cells=3)
    back2 = read_configuration(write_configuration(flat, tmp_path / "h.csv"))
    assert back2.dim == 2 and back2.n_particles == flat.n_particles


@pytest.mark.parametrize(("name", "text", "message"), [
    ("a.pdb", "", "unknown configuration format 'pdb'; allowed: xyz, csv"),
    ("missing.xyz", None, "no such file"),
    ("a.xyz", "three\n", "expected the particle count"),
])
def test_unreadable_files_are_value_errors(tmp_path: Path, name: str, text: str | None, message: str) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_configuration(path)
    with pytest.raises(ValueError, match="XYZ files hold 3D configurations"):
        write_configuration(generate("lattice", structure="hexagonal", cells=3), tmp_path / "h.xyz")


@pytest.mark.parametrize("kind", list(GENERATORS))
def test_seeds_are_32_bit_integers_everywhere(kind: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Seeds beyond 2**32 - 1 were taken by the generators (numpy's default_rng accepts any size)
    but refused by the unsupervised methods' (scikit-learn's RandomState); True was seed 1 and
    inf an OverflowError traceback. One range now, named in the message, from Python and the CLI."""
    small = {"lattice": {"cells": 2}, "liquid": {"particles": 30}, "slab": {"cells": 3, "slab_fraction": 0.3},
             "fcc-hcp": {"cells": 2, "fcc_layers": 3, "hcp_layers": 2}}[kind]
    top = generate(kind, seed=MAX_SEED, **small)
    assert not np.array_equal(top.positions, generate(kind, seed=0, **small).positions)
    np.testing.assert_array_equal(top.positions, generate(kind, seed=float(MAX_SEED), **small).positions)
    for seed in (MAX_SEED + 1, 2**64, -1, True, 1.5, float("inf"), float("nan"), "3"):
        with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 4294967295\] \(32 bits, as the seeds of "
                                             rf"the unsupervised methods\), got {re.escape(repr(seed))}"):
            generate(kind, seed=seed, **small)
    from engine.cli import main

    flags = [f"--{name.replace('_', '-')}={value}" for name, value in small.items()]
    assert main(["order", "generate", kind, *flags, "--seed", str(2**32), "--out", str(tmp_path / "x.csv")]) == 2
    assert "--seed must be an integer in [0, 4294967295]" in capsys.readouterr().err
    assert main(["order", "generate", kind, *flags, "--seed", str(MAX_SEED), "--out", str(tmp_path / "x.csv")]) == 0


@pytest.mark.parametrize(("kind", "options", "message"), [
    ("lattice", {"cells": True}, "cells must be a positive integer, got True"),
    ("lattice", {"cells": "3"}, "cells must be a positive integer, got '3'"),
    ("lattice", {"cells": float("inf")}, "cells must be a positive integer, got inf"),
    ("lattice", {"lindemann": "0.1"}, r"lindemann must lie in \[0, 0.5\]"),
    ("lattice", {"structure": ["fcc"]}, "unknown structure"),
    ("liquid", {"density": float("nan")}, "density must be a finite number > 0, got nan"),
    ("liquid", {"particles": 2.5}, "particles must be an integer >= 2"),
    ("slab", {"slab_fraction": "half"}, r"slab_fraction must lie in \(0, 1\), got 'half'"),
])
def test_options_of_the_wrong_type_are_value_errors(kind: str, options: dict, message: str) -> None:
    """Strings, booleans and infinities from a script were TypeError or OverflowError tracebacks."""
    with pytest.raises(ValueError, match=message):
        generate(kind, **options)
