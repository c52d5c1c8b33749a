"""Particle files in NumPy ``.npz`` format: opened without pickles, integer types named as species."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["open_npz", "real_array", "species_of_types"]


def open_npz(path: Path) -> np.lib.npyio.NpzFile:
    """Open an ``.npz`` with ``allow_pickle=False`` (use it as a context manager).

    Raises
    ------
    ValueError
        Not a readable ``.npz`` file.
    """
    try:
        data = np.load(path, allow_pickle=False)
    except OSError as exc:
        raise ValueError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    except (ValueError, EOFError):  # numpy reads any other bytes as a pickle, which it refuses
        raise ValueError(f"{path.name}: not a NumPy .npz file (an archive of arrays written by numpy.savez; "
                         "pickled objects are never loaded)") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{path.name}: not a NumPy .npz archive (a single array; save with numpy.savez)")
    for name in data.files:
        try:
            data[name]
        except ValueError:  # an object array: numpy refuses to unpickle it
            data.close()
            raise ValueError(f"{path.name}: field {name!r} holds Python objects (pickled); only numeric arrays are "
                             "read") from None
    return data


def real_array(data: np.lib.npyio.NpzFile, name: str, path: Path) -> np.ndarray:
    """Field ``name`` as float64, refusing what is not real numbers (complex, text, booleans).

    Raises
    ------
    ValueError
        The field's type, with the file's name.
    """
    array = np.asarray(data[name])
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{path.name}: {name} must hold real numbers, got {array.dtype} values")
    return array.astype(float)


def species_of_types(types: np.ndarray, n: int, species: tuple[str, ...], name: str) -> np.ndarray:
    """Species names of integer ``types`` (type k ↦ ``species[k]``), shape (n,).

    Raises
    ------
    ValueError
        Not n integers in 0 … len(species) − 1 (the message starts with the file ``name``).
    """
    types = np.asarray(types)
    if types.shape != (n,) or not np.issubdtype(types.dtype, np.integer) or types.min(initial=0) < 0 \
            or types.max(initial=0) >= len(species):
        raise ValueError(f"{name}: types must hold {n} integers (one per particle) in 0 … {len(species) - 1} "
                         f"({', '.join(species)}); got shape {types.shape}, values {np.unique(types)[:5].tolist()}")
    return np.asarray(species)[types]
