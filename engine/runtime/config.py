"""Where the store lives and where work runs: settings from the environment, with defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ENV_STORE", "ENV_EXECUTOR", "ENV_DEVICE", "DEFAULT_STORE", "Settings", "settings_from_env"]

ENV_STORE = "MATLOOP_STORE"
ENV_EXECUTOR = "MATLOOP_EXECUTOR"
ENV_DEVICE = "MATLOOP_DEVICE"
#: Default project directory (relative to the working directory); holds ``matloop.sqlite``.
DEFAULT_STORE = "runs"


@dataclass(frozen=True)
class Settings:
    """Store location, executor spec and torch device spec.

    Attributes
    ----------
    store : str
        Project directory or ``.sqlite`` file.
    executor : str
        Executor spec, see :data:`engine.runtime.executors.EXECUTOR_HELP`.
    device : str
        ``"auto"``, ``"cpu"`` or ``"cuda[:N]"``.
    store_is_default : bool
        True when ``store`` was not chosen by the user; only then is its directory created.
    """

    store: str = DEFAULT_STORE
    executor: str = "local"
    device: str = "auto"
    store_is_default: bool = True


def settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``MATLOOP_STORE``, ``MATLOOP_EXECUTOR`` and ``MATLOOP_DEVICE`` (unset: defaults)."""
    env = os.environ if environ is None else environ
    store = env.get(ENV_STORE, "").strip()
    return Settings(
        store=store or DEFAULT_STORE,
        executor=env.get(ENV_EXECUTOR, "").strip() or "local",
        device=env.get(ENV_DEVICE, "").strip() or "auto",
        store_is_default=not store,
    )
