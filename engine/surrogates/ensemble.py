"""Deep ensembles: several seeded copies of one surrogate give a predictive mean and spread.

The spread (standard deviation across members) is what the search loops use for expected
improvement and for choosing which designs to label next.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.validation import check_is_fitted

from engine.surrogates.base import (
    FORMAT,
    FORMAT_VERSION,
    ProgressCallback,
    TorchSurrogate,
    malformed_file,
    read_payload,
    resolve_seed,
    write_payload,
)
from engine.surrogates.registry import from_payload

__all__ = ["SurrogateEnsemble"]


class SurrogateEnsemble(BaseEstimator):
    """Ensemble of independently seeded (optionally bootstrapped) copies of a surrogate.

    Parameters
    ----------
    estimator : TorchSurrogate
        Unfitted template (any grid or spinodoid model); cloned per member.
    n_members : int
        Number of members (>= 2 for a meaningful spread).
    bootstrap : bool
        Train each member on a bootstrap resample of the data (otherwise only seeds differ).
    random_state : int, Generator or None
        Seed of the member seeds and resamples; resolved in ``fit`` to ``random_state_``.
    """

    def __init__(self, estimator: TorchSurrogate, n_members: int = 5, bootstrap: bool = False, random_state: Any = None) -> None:
        self.estimator = estimator
        self.n_members = n_members
        self.bootstrap = bootstrap
        self.random_state = random_state

    def _check_fitted(self) -> None:
        """Raise :class:`~sklearn.exceptions.NotFittedError` unless ``members_`` exists."""
        check_is_fitted(self, "members_", msg="This %(name)s is not fitted yet; call fit(X, y) or load a saved ensemble first")

    def fit(self, X: Any, y: Any, callback: ProgressCallback | None = None) -> "SurrogateEnsemble":
        """Fit ``n_members`` clones with seeds drawn from ``random_state``.

        ``callback`` receives each epoch record with an added ``"member"`` index.

        Returns
        -------
        self
        """
        if not isinstance(self.estimator, TorchSurrogate):
            raise ValueError(f"estimator must be a matloop TorchSurrogate; got {type(self.estimator).__name__}")
        if int(self.n_members) < 1:
            raise ValueError(f"n_members must be >= 1; got {self.n_members}")
        self.random_state_ = resolve_seed(self.random_state)
        seeds = np.random.SeedSequence(self.random_state_).generate_state(int(self.n_members))
        rng = np.random.default_rng(self.random_state_)
        X_arr = np.asarray(X) if self.bootstrap else X
        y_arr = np.asarray(y) if self.bootstrap else y
        members = []
        for i, seed in enumerate(seeds):
            member = clone(self.estimator).set_params(random_state=int(seed) % (2**31 - 1))
            Xi, yi = X_arr, y_arr
            if self.bootstrap:
                idx = rng.integers(0, len(X_arr), len(X_arr))
                Xi, yi = X_arr[idx], y_arr[idx]
            cb = None if callback is None else (lambda rec, i=i: callback({**rec, "member": float(i)}))
            members.append(member.fit(Xi, yi, callback=cb))
        self.members_ = members
        if hasattr(members[0], "classes_"):
            self.classes_ = members[0].classes_
        return self

    def predict(self, X: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Mean prediction over members (regressors), or the class of the mean probability.

        Parameters
        ----------
        X : array-like
            Inputs accepted by the member model.
        return_std : bool
            Also return the standard deviation across members (regressors only).
        """
        self._check_fitted()
        if is_classifier(self.members_[0]):
            if return_std:
                raise ValueError("return_std is available for regression ensembles; use predict_proba(X, return_std=True)")
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        preds = np.stack([m.predict(X) for m in self.members_])
        mean = preds.mean(axis=0)
        return (mean, preds.std(axis=0)) if return_std else mean

    def predict_proba(self, X: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Mean class probabilities over members (classifier members only)."""
        self._check_fitted()
        if not is_classifier(self.members_[0]):
            raise ValueError("predict_proba needs classifier members")
        probs = np.stack([m.predict_proba(X) for m in self.members_])
        return (probs.mean(0), probs.std(0)) if return_std else probs.mean(0)

    def rank_scores(self, X: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Mean (and spread) of the members' ranking scores."""
        self._check_fitted()
        scores = np.stack([m.rank_scores(X) for m in self.members_])
        return (scores.mean(0), scores.std(0)) if return_std else scores.mean(0)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (classifiers) or R² averaged over outputs (regressors) of the ensemble mean."""
        if is_classifier(self.estimator):
            return float(accuracy_score(y, self.predict(X)))
        return float(r2_score(y, self.predict(X)))

    # ------------------------------------------------------------------ persistence
    def _to_payload(self) -> dict[str, Any]:
        self._check_fitted()
        config = {"n_members": int(self.n_members), "bootstrap": bool(self.bootstrap), "random_state_": self.random_state_}
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "kind": type(self).__name__,
            "config": json.dumps(config),
            "members": [m._to_payload() for m in self.members_],
        }

    @classmethod
    def _from_payload(cls, payload: dict[str, Any], device: str = "auto") -> "SurrogateEnsemble":
        if payload.get("kind") != cls.__name__:
            raise ValueError(f"the file holds a {payload.get('kind')!r} model, not a SurrogateEnsemble")
        try:
            config = json.loads(payload["config"])
            member_payloads = list(payload["members"])
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"malformed ensemble file: {exc}") from None
        if not member_payloads:
            raise ValueError("malformed ensemble file: no members")
        try:
            members = [from_payload(p, device=device, base=TorchSurrogate) for p in member_payloads]
        except ValueError as exc:
            raise ValueError(f"malformed ensemble file: a member cannot be read: {exc}") from None
        template = clone(members[0])
        ens = cls(template, n_members=int(config["n_members"]), bootstrap=bool(config["bootstrap"]), random_state=config["random_state_"])
        ens.random_state_ = int(config["random_state_"])
        ens.members_ = members
        if hasattr(members[0], "classes_"):
            ens.classes_ = members[0].classes_
        return ens

    def save(self, path: str | Path) -> Path:
        """Write all members to one file (state dicts + JSON configs via ``torch.save``)."""
        return write_payload(self._to_payload(), path)

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> "SurrogateEnsemble":
        """Load an ensemble saved by :meth:`save` (``weights_only=True``)."""
        with malformed_file(path):
            return cls._from_payload(read_payload(path), device=device)
