"""Common surrogate API: save/load round trips, clear errors, input validation, devices, ensembles."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError

import engine.surrogates
from engine.runtime.device import cuda_available
from engine.surrogates import (
    GridCNNClassifier,
    GridCNNRegressor,
    GridLinearClassifier,
    GridLinearRegressor,
    SpinodoidEquivariantNet,
    SpinodoidPublishedNet,
    SurrogateEnsemble,
    TandemInverse,
    check_grids,
    load_kumar2020,
    load_surrogate,
)
from engine.surrogates.base import FORMAT, FORMAT_VERSION, read_payload, write_payload
from engine.surrogates.registry import SURROGATE_KINDS, surrogate_class
from support_data import KUMAR2020_CSV

REPO = Path(__file__).resolve().parents[1]


def _synthetic_grids(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """8×8 two-phase grids and a known target: soft blocks near the crack tip count more."""
    rng = np.random.default_rng(seed)
    grids = (rng.random((n, 8, 8)) < 0.5).astype(int)
    weight = np.exp(-((np.arange(8)[:, None] - 3.5) ** 2 + (np.arange(8)[None, :] - 1.5) ** 2) / 4.0)
    y = ((grids == 0) * weight).sum(axis=(1, 2))
    return grids, y


@pytest.fixture(scope="module")
def spinodoid_small() -> tuple[np.ndarray, np.ndarray]:
    X, Y = load_kumar2020(KUMAR2020_CSV)
    idx = np.random.default_rng(0).permutation(len(X))[:1500]
    return X[idx], Y[idx]


@pytest.fixture(scope="module")
def fitted(spinodoid_small):
    X, Y = spinodoid_small
    grids, y = _synthetic_grids(300, 0)
    labels = (y > np.median(y)).astype(int)
    fwd = SpinodoidEquivariantNet(max_epochs=3, random_state=0, device="cpu").fit(X, Y)
    return {
        "published": SpinodoidPublishedNet(max_epochs=2, lr=1e-3, random_state=0, device="cpu").fit(X, Y),
        "equivariant": fwd,
        "inverse": TandemInverse(fwd, max_epochs=2, refine_steps=5, random_state=0, device="cpu").fit(Y),
        "lin_clf": GridLinearClassifier(max_epochs=5, random_state=0, device="cpu").fit(grids, labels),
        "cnn_clf": GridCNNClassifier(max_epochs=3, random_state=0, device="cpu").fit(grids, labels),
        "lin_reg": GridLinearRegressor(max_epochs=5, random_state=0, device="cpu").fit(grids, y),
        "cnn_reg": GridCNNRegressor(max_epochs=3, random_state=0, device="cpu").fit(grids, np.column_stack([y, 2 * y])),
    }


def _inputs(name: str, spinodoid_small):
    X, Y = spinodoid_small
    if name in ("published", "equivariant"):
        return X[:50]
    if name == "inverse":
        return Y[:20]
    return _synthetic_grids(50, 1)[0]


@pytest.mark.parametrize("name", ["published", "equivariant", "inverse", "lin_clf", "cnn_clf", "lin_reg", "cnn_reg"])
def test_save_load_round_trip_identical(fitted, spinodoid_small, name, tmp_path):
    model = fitted[name]
    X = _inputs(name, spinodoid_small)
    path = model.save(tmp_path / f"{name}.pt")
    again = type(model).load(path, device="cpu")
    generic = load_surrogate(path, device="cpu")
    assert type(generic) is type(model)
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    np.testing.assert_array_equal(generic.predict(X), model.predict(X))
    if hasattr(model, "predict_proba"):
        np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    assert again.history_ == model.history_


def test_load_rejects_non_model_files(tmp_path, fitted):
    text = tmp_path / "notes.txt"
    text.write_text("not a model")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(np.random.default_rng(0).bytes(1000))
    tensor = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), tensor)
    foreign = tmp_path / "foreign.pt"
    torch.save({"format": "someone-else", "state_dict": {}}, foreign)
    for path in (text, junk, tensor, foreign, tmp_path / "missing.pt"):
        with pytest.raises(ValueError, match="not a matloop surrogate|does not exist"):
            GridCNNClassifier.load(path)
        with pytest.raises(ValueError):
            load_surrogate(path)


def test_load_rejects_model_of_another_kind(tmp_path, fitted):
    path = fitted["cnn_clf"].save(tmp_path / "cnn.pt")
    for cls in (GridLinearClassifier, GridCNNRegressor, SpinodoidPublishedNet, TandemInverse, SurrogateEnsemble):
        with pytest.raises(ValueError, match="GridCNNClassifier"):
            cls.load(path)


@pytest.mark.parametrize(
    "model, X",
    [
        (SpinodoidPublishedNet(), np.full((2, 4), 0.5)),
        (SpinodoidEquivariantNet(), np.full((2, 4), 0.5)),
        (TandemInverse(), np.ones((2, 9))),
        (GridCNNClassifier(), np.zeros((2, 8, 8))),
        (GridLinearRegressor(), np.zeros((2, 8, 8))),
        (GridLinearClassifier(), np.zeros((2, 8, 8))),
        (GridCNNRegressor(), np.zeros((2, 8, 8))),
        (SurrogateEnsemble(GridCNNRegressor()), np.zeros((2, 8, 8))),
    ],
)
def test_predict_before_fit_is_clear_error(model, X):
    with pytest.raises(NotFittedError, match="not fitted"):
        model.predict(X)
    with pytest.raises(NotFittedError):
        model.save("never.pt")


def test_spinodoid_inputs_validated(fitted):
    net = fitted["equivariant"]
    with pytest.raises(ValueError, match="4 columns"):
        net.predict(np.ones((3, 5)))
    with pytest.raises(ValueError, match="NaN"):
        net.predict([[0.5, np.nan, 0, 0]])
    with pytest.raises(ValueError, match=r"rho must be in \[0, 1\]"):
        net.predict([[1.5, 30, 0, 0]])
    with pytest.raises(ValueError, match=r"\[0, 90\] degrees"):
        net.predict([[0.5, 120, 0, 0]])
    with pytest.raises(ValueError, match="0 \\(closed\\) or in \\[15, 90\\]"):
        net.predict([[0.5, 10, 0, 0]])
    with pytest.raises(ValueError, match="at least one cone must be open"):
        net.predict([[0.5, 0, 0, 0]])
    assert net.predict([0.5, 30, 0, 0]).shape == (1, 9)
    with pytest.raises(ValueError, match="9 columns"):
        fitted["inverse"].predict(np.ones((2, 8)))
    with pytest.raises(ValueError, match="must be positive"):
        fitted["inverse"].predict(-np.ones((1, 9)))
    with pytest.raises(ValueError, match="9 columns"):
        SpinodoidPublishedNet().fit(np.tile([0.5, 20.0, 0.0, 0.0], (5, 1)), np.ones((5, 8)))


def test_grid_inputs_validated(fitted):
    clf = fitted["cnn_clf"]
    with pytest.raises(ValueError, match="trained on 8x8"):
        clf.predict(np.zeros((2, 16, 16)))
    with pytest.raises(ValueError, match="unknown block type index 2; allowed 0..1"):
        clf.predict(np.full((1, 8, 8), 2))
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(np.full((1, 8, 8), np.nan))
    with pytest.raises(ValueError, match="integer"):
        clf.predict(np.full((1, 8, 8), 0.5))
    with pytest.raises(ValueError, match="ragged"):
        check_grids([[[0, 1], [1]]])
    with pytest.raises(ValueError, match="at least two classes"):
        GridLinearClassifier().fit(np.zeros((4, 8, 8)), np.ones(4))
    with pytest.raises(ValueError, match="symmetry"):
        GridCNNRegressor(symmetry="rotate").fit(np.zeros((4, 8, 8)), np.ones(4))
    with pytest.raises(ValueError, match="device"):
        GridLinearRegressor(device="tpu").fit(np.zeros((4, 8, 8)), np.arange(4.0))
    assert clf.predict(np.zeros((8, 8), dtype=int)).shape == (1,)


def test_checkerboard_objects_accepted(fitted):
    from designs.checkerboard import Checkerboard

    designs = [Checkerboard.random(8, seed=s) for s in range(5)]
    arr = np.stack([d.as_array() for d in designs])
    np.testing.assert_array_equal(fitted["cnn_clf"].predict(designs), fitted["cnn_clf"].predict(arr))


def test_classifier_outputs_and_history(fitted):
    clf = fitted["cnn_clf"]
    grids = _synthetic_grids(40, 2)[0]
    p = clf.predict_proba(grids)
    assert p.shape == (40, 2) and np.allclose(p.sum(1), 1.0) and (p >= 0).all()
    np.testing.assert_array_equal(clf.predict(grids), clf.classes_[p.argmax(1)])
    assert len(clf.history_) == clf.n_epochs_ and {"train_loss", "val_loss", "lr"} <= set(clf.history_[0])
    assert fitted["cnn_reg"].predict(grids).shape == (40, 2)


def test_seeded_training_is_reproducible():
    grids, y = _synthetic_grids(200, 0)
    a = GridCNNRegressor(max_epochs=3, random_state=5, device="cpu").fit(grids, y)
    b = GridCNNRegressor(max_epochs=3, random_state=5, device="cpu").fit(grids, y)
    np.testing.assert_array_equal(a.predict(grids), b.predict(grids))


def test_early_stopping_restores_best_epoch():
    grids, y = _synthetic_grids(200, 0)
    model = GridLinearRegressor(max_epochs=400, patience=5, lr=0.05, random_state=0, device="cpu").fit(grids, y)
    assert model.n_epochs_ < 400
    val = [h["val_loss"] for h in model.history_]
    assert model.best_epoch_ == int(np.argmin(val)) + 1
    assert model.n_epochs_ - model.best_epoch_ == 5


def test_ensemble_mean_spread_and_round_trip(tmp_path):
    grids, y = _synthetic_grids(300, 0)
    test_grids, y_test = _synthetic_grids(100, 9)
    ens = SurrogateEnsemble(GridLinearRegressor(max_epochs=30, device="cpu"), n_members=3, bootstrap=True, random_state=0)
    ens.fit(grids, y)
    mean, std = ens.predict(test_grids, return_std=True)
    members = np.stack([m.predict(test_grids) for m in ens.members_])
    np.testing.assert_allclose(mean, members.mean(0))
    np.testing.assert_allclose(std, members.std(0))
    assert (std > 0).all()
    print(f"\nensemble of 3 linear regressors, held-out R² {ens.score(test_grids, y_test):.4f}")
    # measured (`pytest -s`, seeds as here, torch 2.13.0+cpu on the 2-core test machine): R² 0.9997
    assert ens.score(test_grids, y_test) > 0.9  # the synthetic target is linear in the one-hot grid
    again = SurrogateEnsemble.load(ens.save(tmp_path / "ens.pt"), device="cpu")
    np.testing.assert_array_equal(again.predict(test_grids), mean)
    clf = SurrogateEnsemble(GridLinearClassifier(max_epochs=5, device="cpu"), n_members=2, random_state=0)
    clf.fit(grids, (y > np.median(y)).astype(int))
    p, s = clf.predict_proba(test_grids, return_std=True)
    assert p.shape == (100, 2) and s.shape == (100, 2)


def test_device_auto_matches_cpu(fitted, tmp_path):
    X = _synthetic_grids(64, 3)[0]
    path = fitted["cnn_reg"].save(tmp_path / "m.pt")
    auto = GridCNNRegressor.load(path, device="auto")
    cpu = GridCNNRegressor.load(path, device="cpu")
    tol = 1e-4 if cuda_available() else 0.0
    np.testing.assert_allclose(auto.predict(X), cpu.predict(X), rtol=tol, atol=tol)


@pytest.mark.skipif(not cuda_available(), reason="no CUDA device")
def test_cuda_training_agrees_with_cpu(spinodoid_small):
    X, Y = spinodoid_small
    grids, y = _synthetic_grids(300, 0)
    for make in (
        lambda d: GridCNNRegressor(max_epochs=3, random_state=0, device=d).fit(grids, y),
        lambda d: SpinodoidEquivariantNet(max_epochs=2, random_state=0, device=d).fit(X, Y),
    ):
        a, b = make("cpu"), make("cuda")
        Xi = grids if isinstance(a, GridCNNRegressor) else X
        # same seeds, same data order; float32 kernels differ slightly between devices
        np.testing.assert_allclose(a.predict(Xi), b.predict(Xi), rtol=2e-2, atol=2e-2)


# ---------------------------------------------------------------- ensembles of every member family

_ENSEMBLE_MEMBERS = {
    "lin_clf": lambda: GridLinearClassifier(max_epochs=3, device="cpu"),
    "lin_reg": lambda: GridLinearRegressor(max_epochs=3, device="cpu"),
    "cnn_clf": lambda: GridCNNClassifier(max_epochs=2, device="cpu"),
    "cnn_reg": lambda: GridCNNRegressor(max_epochs=2, device="cpu"),
    "published": lambda: SpinodoidPublishedNet(max_epochs=2, lr=1e-3, device="cpu"),
    "equivariant": lambda: SpinodoidEquivariantNet(max_epochs=2, device="cpu"),
}


@pytest.fixture(scope="module")
def ensembles(spinodoid_small):
    X, Y = spinodoid_small
    grids, y = _synthetic_grids(300, 0)
    data = {"clf": (grids, (y > np.median(y)).astype(int)), "reg": (grids, y)}
    out = {}
    for name, make in _ENSEMBLE_MEMBERS.items():
        Xi, yi = (X, Y) if name in ("published", "equivariant") else data[name[-3:]]
        out[name] = SurrogateEnsemble(make(), n_members=2, bootstrap=True, random_state=0).fit(Xi, yi)
    return out


@pytest.mark.parametrize("name", list(_ENSEMBLE_MEMBERS))
def test_ensemble_round_trip_of_each_member_family(ensembles, spinodoid_small, name, tmp_path):
    ens = ensembles[name]
    X = _inputs(name, spinodoid_small)
    path = ens.save(tmp_path / f"ens-{name}.pt")
    for again in (SurrogateEnsemble.load(path, device="cpu"), load_surrogate(path, device="cpu")):
        assert type(again) is SurrogateEnsemble
        assert [type(m) for m in again.members_] == [type(m) for m in ens.members_]
        assert [m.history_ for m in again.members_] == [m.history_ for m in ens.members_]
        np.testing.assert_array_equal(again.predict(X), ens.predict(X))
        if name.startswith(("lin", "cnn")):
            np.testing.assert_array_equal(again.rank_scores(X), ens.rank_scores(X))
        if name.endswith("clf"):
            np.testing.assert_array_equal(again.predict_proba(X), ens.predict_proba(X))
        else:
            np.testing.assert_array_equal(again.predict(X, return_std=True)[1], ens.predict(X, return_std=True)[1])


# ---------------------------------------------------------------- persistence registry

_FRESH_PROCESS = """
import json, sys
import numpy as np
import torch
from engine.surrogates.ensemble import SurrogateEnsemble
from engine.surrogates.registry import load_surrogate

torch.set_num_threads(1)  # as in the test process (conftest), so float reductions run alike
data = np.load(sys.argv[1])
imported = sorted(m for m in sys.modules if m.startswith("engine.surrogates."))
ens = SurrogateEnsemble.load(sys.argv[2], device="cpu")
inv = load_surrogate(sys.argv[3], device="cpu")
np.testing.assert_array_equal(ens.predict(data["grids"]), data["ensemble_pred"])
np.testing.assert_array_equal(inv.predict(data["targets"]), data["inverse_pred"])
print(json.dumps({"imported_before_load": imported, "kinds": [type(ens).__name__, type(inv).__name__]}))
"""


def test_saved_models_load_in_a_fresh_process_that_imported_only_the_ensemble(ensembles, fitted, spinodoid_small,
                                                                              tmp_path):
    """The registry imports a kind's module when a file needs it, whatever was imported before."""
    ens, inv = ensembles["cnn_reg"], fitted["inverse"]
    grids, targets = _inputs("cnn_reg", spinodoid_small), _inputs("inverse", spinodoid_small)
    data = tmp_path / "expected.npz"
    np.savez(data, grids=grids, targets=targets, ensemble_pred=ens.predict(grids), inverse_pred=inv.predict(targets))
    files = [str(ens.save(tmp_path / "ens.pt")), str(inv.save(tmp_path / "inverse.pt"))]
    run = subprocess.run([sys.executable, "-c", _FRESH_PROCESS, str(data), *files], cwd=REPO, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["kinds"] == ["SurrogateEnsemble", "TandemInverse"]
    # the classes of the stored kinds were not imported before loading: the registry found them
    model_modules = {"engine.surrogates.grid", "engine.surrogates.spinodoid", "engine.surrogates.inverse"}
    assert not model_modules & set(report["imported_before_load"]), report


def _public_estimator_classes() -> dict[str, type]:
    """Concrete public estimator classes defined in the modules of engine.surrogates (found by walking them)."""
    found = {}
    for info in pkgutil.iter_modules(engine.surrogates.__path__, "engine.surrogates."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and obj.__module__ == module.__name__ and not name.startswith("_")
                    and issubclass(obj, BaseEstimator) and not inspect.isabstract(obj)):
                found[name] = obj
    return found


def test_every_public_surrogate_class_is_registered():
    classes = _public_estimator_classes()
    assert {"GridCNNRegressor", "SpinodoidEquivariantNet", "TandemInverse", "SurrogateEnsemble"} <= set(classes)
    assert set(SURROGATE_KINDS) == set(classes), "add new surrogate classes to engine.surrogates.registry.SURROGATE_KINDS"
    for kind, cls in classes.items():
        assert surrogate_class(kind) is cls


def test_package_exports_resolve():
    for name in engine.surrogates.__all__:
        assert getattr(engine.surrogates, name) is not None
    assert load_surrogate is importlib.import_module("engine.surrogates.registry").load_surrogate
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        engine.surrogates.Nope  # noqa: B018


def test_unknown_kind_in_a_file_is_a_clear_error(tmp_path, fitted, ensembles):
    mystery = {"format": FORMAT, "version": FORMAT_VERSION, "kind": "MysteryNet", "config": "{}", "state_dict": {}}
    path = write_payload(mystery, tmp_path / "mystery.pt")
    with pytest.raises(ValueError, match=r"unknown surrogate kind 'MysteryNet'; known kinds: .*GridCNNClassifier"):
        load_surrogate(path)
    ens = read_payload(ensembles["cnn_reg"].save(tmp_path / "ens.pt"))
    ens["members"][1]["kind"] = "MysteryNet"
    with pytest.raises(ValueError, match="malformed ensemble file.*unknown surrogate kind 'MysteryNet'"):
        SurrogateEnsemble.load(write_payload(ens, tmp_path / "ens-bad.pt"))
    inv = read_payload(fitted["inverse"].save(tmp_path / "inv.pt"))
    inv["forward"] = fitted["cnn_reg"]._to_payload()
    with pytest.raises(ValueError, match="GridCNNRegressor model cannot stand here; expected one of: SpinodoidEq"):
        load_surrogate(write_payload(inv, tmp_path / "inv-bad.pt"))


def _damaged(payload: dict, how: str) -> dict:
    import copy
    import json

    payload = copy.deepcopy(payload)
    config = json.loads(payload["config"])
    if how == "kind-list":
        payload["kind"] = ["x"]
    elif how == "kind-of-another-model":
        payload["kind"] = "SpinodoidPublishedNet"
    elif how == "extra-parameter":
        config["params"]["colour"] = "red"
    elif how == "missing-extras":
        del config["extras"]["random_state_"]
    elif how == "weights-not-a-dict":
        payload["state_dict"] = [1, 2]
    payload["config"] = json.dumps(config)
    return payload


@pytest.mark.parametrize("how", ["kind-list", "kind-of-another-model", "extra-parameter", "missing-extras",
                                 "weights-not-a-dict"])
def test_damaged_files_are_value_errors(tmp_path, fitted, how):
    path = write_payload(_damaged(read_payload(fitted["cnn_reg"].save(tmp_path / "m.pt")), how), tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="malformed surrogate file|unknown surrogate kind|holds a"):
        load_surrogate(path)
    with pytest.raises(ValueError):
        GridCNNRegressor.load(path)


# ---------------------------------------------------------------- scikit-learn parameter rules

_LIST_PARAMS = {
    "published": lambda fwd: SpinodoidPublishedNet(hidden=[16, 16], max_epochs=1, random_state=0, device="cpu"),
    "equivariant": lambda fwd: SpinodoidEquivariantNet(hidden=[16, 16], max_epochs=1, random_state=0, device="cpu"),
    "inverse": lambda fwd: TandemInverse(fwd, hidden=[16, 16], rho_range=[0.3, 0.9], max_epochs=1, refine_steps=2,
                                         random_state=0, device="cpu"),
    "lin_clf": lambda fwd: GridLinearClassifier(max_epochs=1, random_state=0, device="cpu"),
    "lin_reg": lambda fwd: GridLinearRegressor(max_epochs=1, random_state=0, device="cpu"),
    "cnn_clf": lambda fwd: GridCNNClassifier(channels=[4, 8], max_epochs=1, random_state=0, device="cpu"),
    "cnn_reg": lambda fwd: GridCNNRegressor(channels=[4, 8], max_epochs=1, random_state=0, device="cpu"),
    "ensemble": lambda fwd: SurrogateEnsemble(GridCNNRegressor(channels=[4, 8], max_epochs=1, device="cpu"), n_members=2,
                                              random_state=0),
}


def _comparable(params: dict) -> dict:
    """Parameters with their types; nested estimators by type and parameters (they have no ==)."""
    return {k: (type(v), _comparable(v.get_params()) if isinstance(v, BaseEstimator) else v) for k, v in params.items()}


@pytest.mark.parametrize("name", list(_LIST_PARAMS))
def test_fit_leaves_constructor_parameters_as_given_and_clone_works(fitted, spinodoid_small, name):
    """scikit-learn rule: fit never rewrites parameters (lists stay lists), so clone and get_params agree."""
    X, Y = spinodoid_small
    grids, y = _synthetic_grids(100, 0)
    labels = (y > np.median(y)).astype(int)
    special = {"published": (X, Y), "equivariant": (X, Y), "inverse": (Y, None), "lin_clf": (grids, labels),
               "cnn_clf": (grids, labels)}
    data = special.get(name, (grids, y))
    make = _LIST_PARAMS[name]
    model = make(fitted["equivariant"])
    expected = _comparable(make(fitted["equivariant"]).get_params(deep=True))  # an untouched twin
    assert _comparable(model.get_params(deep=True)) == expected
    model.fit(*data)
    assert _comparable(model.get_params(deep=True)) == expected
    twin = clone(model)
    assert _comparable(twin.get_params(deep=True)) == expected
    assert not hasattr(twin, "module_") and not hasattr(twin, "members_")
    if name == "inverse":  # clone gives an unfitted copy of the forward net, as scikit-learn does
        twin.set_params(forward_model=model.forward_model)
    inputs = _inputs(name if name != "ensemble" else "cnn_reg", spinodoid_small)
    np.testing.assert_array_equal(twin.fit(*data).predict(inputs), model.predict(inputs))
