"""A stiffness result on the Spinodoids page names and draws the design it belongs to."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from designs.spinodal import Spinodoid
from engine.store import Store
from fem.homogenize import ORTHOTROPIC_CONSTANTS

APP = str(Path(__file__).parents[1] / "ui" / "app.py")


def finished_stiffness_job(store: Store, design: Spinodoid) -> str:
    """A finished ``homogenize-spinodoid`` job of ``design`` with an isotropic result (no solve)."""
    lam, mu = 0.1, 0.15  # Lamé constants in units of the solid's E
    C = np.zeros((6, 6))
    C[:3, :3] = lam
    C[range(3), range(3)] = lam + 2 * mu
    C[range(3, 6), range(3, 6)] = mu
    young = mu * (3 * lam + 2 * mu) / (lam + mu)
    nu = lam / (2 * (lam + mu))
    metrics = {"C": C.tolist(), **{k: young for k in ("E1", "E2", "E3")}, **{k: mu for k in ("G23", "G13", "G12")},
               **{k: nu for k in ("nu12", "nu13", "nu23")}, "symmetry_error": 0.0, "solid_fraction": design.rho,
               "connected_fraction": design.rho, "kept_clusters": 1, "percolates": [True, True, True]}
    assert set(ORTHOTROPIC_CONSTANTS) <= set(metrics)
    u, v = np.meshgrid(np.linspace(0, np.pi, 5), np.linspace(0, 2 * np.pi, 9))
    surface = {"x": (young * np.sin(u) * np.cos(v)).tolist(), "y": (young * np.sin(u) * np.sin(v)).tolist(),
               "z": (young * np.cos(u)).tolist(), "E": np.full(u.shape, young).tolist()}
    job_id = store.create_job("homogenize-spinodoid", {"genome": design.genome(), "resolution": 32, "bc": "affine"})
    store.start_job(job_id)
    store.finish_job(job_id, "done", result={"design_hash": design.content_hash(), "status": "ok", "reason": None,
                                             "metrics": metrics, "surface": surface})
    return job_id


def test_a_stiffness_result_shows_the_hash_and_a_drawing_of_its_design(monkeypatch: pytest.MonkeyPatch,
                                                                       store_dir: Path) -> None:
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    design = Spinodoid(rho=0.4, theta=(30.0, 90.0, 0.0), seed=3)  # not the page's default design
    job_id = finished_stiffness_job(Store(store_dir), design)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["job"] = job_id
    at.run()
    at.switch_page("views/spinodoid.py").run()
    assert not at.exception and not at.error
    assert any(f"`{design.content_hash()}`" in c.value for c in at.caption)
    specs = {json.loads(c.proto.spec)["layout"]["title"]["text"]: json.loads(c.proto.spec)
             for c in at.get("plotly_chart")}
    z = specs["the homogenised design"]["data"][0]["z"]
    if isinstance(z, dict):  # plotly sends arrays as base64
        z = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"])).reshape(
            tuple(int(n) for n in z["shape"].split(",")))
    solid = design.voxels(48)  # the drawing: the solid on the mid-plane z = ½ cell, rows along y
    np.testing.assert_array_equal(np.asarray(z), solid[:, :, solid.shape[2] // 2].astype(int).T)


def test_a_part_that_falls_apart_or_carries_no_load_is_warned_before_download(monkeypatch: pytest.MonkeyPatch,
                                                                              store_dir: Path) -> None:
    """A one-open-cone design (a stack of plates, as a published row) gets the export's warnings: no stiffness
    along the closed axis, several bodies; a connected isotropic one gets none; a dense one (ρ = 0.9) is told of
    its sealed cavities."""
    from designs.stl import part_warnings, spinodoid_part

    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("views/spinodoid.py").run()
    for label, value in (("Solid fraction ρ", 0.31), ("θx (°)", 17), ("θy (°)", 0), ("θz (°)", 0)):
        next(s for s in at.sidebar.slider if s.label == label).set_value(value)
    next(n for n in at.sidebar.number_input if n.label == "Seed").set_value(1)
    next(b for b in at.button if b.label == "Prepare STL").click().run()
    assert not at.exception
    design = Spinodoid(rho=0.31, theta=(17.0, 0.0, 0.0), seed=1)
    expected = part_warnings(*spinodoid_part(design, max(design.min_resolution(), 48), 10.0))
    assert any("no stiffness along" in w for w in expected) and any("falls apart" in w for w in expected)
    assert [w.value for w in at.warning] == ["; ".join(expected).capitalize() + "."]
    assert any(d.label.startswith("Download STL") for d in at.get("download_button"))
    # finer voxels chosen for the homogenisation: the part is drawn round those (the structure labelled there)
    next(s for s in at.selectbox if s.label == "Voxels per side").set_value(64).run()
    next(b for b in at.button if b.label == "Prepare STL").click().run()
    fine = part_warnings(*spinodoid_part(design, 64, 10.0))
    assert [w.value for w in at.warning] == ["; ".join(fine).capitalize() + "."] and fine != expected
    next(s for s in at.selectbox if s.label == "Voxels per side").set_value(32).run()
    next(s for s in at.sidebar.slider if s.label == "Solid fraction ρ").set_value(0.6)
    for label in ("θx (°)", "θy (°)", "θz (°)"):
        next(s for s in at.sidebar.slider if s.label == label).set_value(90)
    next(b for b in at.button if b.label == "Prepare STL").click().run()
    assert not at.exception and not at.warning
    assert any(d.label.startswith("Download STL") for d in at.get("download_button"))
    # the densest part the page offers holds sealed cavities: said so, with the advice that fits them
    next(s for s in at.sidebar.slider if s.label == "Solid fraction ρ").set_value(0.9)
    next(b for b in at.button if b.label == "Prepare STL").click().run()
    dense = Spinodoid(rho=0.9, seed=1)
    expected = part_warnings(*spinodoid_part(dense, max(dense.min_resolution(), 48), 10.0))
    assert len(expected) == 1 and "sealed cavities" in expected[0] and expected[0].endswith("(a lower ρ opens them)")
    assert [w.value for w in at.warning] == [expected[0].capitalize() + "."]



def test_a_narrow_cone_periodic_cell_is_offered_the_voxels_it_needs(monkeypatch: pytest.MonkeyPatch,
                                                                    store_dir: Path) -> None:
    """θ = (5°, 0, 0), periodic: the cell spans 4 units and needs at least 80 voxels a side. The page offered
    24–64 only (every Compute stiffness refused) and titled the preview "one cell (unit edge)"."""
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("views/spinodoid.py").run()
    for label, value in (("θx (°)", 5), ("θy (°)", 0), ("θz (°)", 0)):
        next(s for s in at.sidebar.slider if s.label == label).set_value(value)
    next(c for c in at.sidebar.checkbox if c.label.startswith("Exactly periodic")).check().run()
    assert not at.exception and not at.error
    design = Spinodoid(rho=0.5, theta=(5.0, 0.0, 0.0), periodic=True)
    assert (design.cell_length, design.min_resolution()) == (4, 80)
    voxels = next(s for s in at.selectbox if s.label == "Voxels per side")
    assert voxels.options == ["80", "96", "128", "192"] and voxels.value == 80
    assert "needs 4 unit lengths a side" in at.info[0].value
    assert [w.value for w in at.warning] == [design.structure_warning().capitalize() + "."]
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert "one periodic cell (4 units a side)" in titles
    # back to isotropic cones: the usual sizes, the kept choice nearest above
    for label in ("θx (°)", "θy (°)", "θz (°)"):
        next(s for s in at.sidebar.slider if s.label == label).set_value(90)
    at.run()
    voxels = next(s for s in at.selectbox if s.label == "Voxels per side")
    assert voxels.options == ["24", "32", "48", "64"] and not at.info and not at.warning
