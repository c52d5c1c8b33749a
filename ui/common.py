"""What every page needs: settings, the store (or an error box), the job manager."""

from __future__ import annotations

import streamlit as st

from engine.runtime.config import Settings, settings_from_env
from engine.runtime.executors import parse_executor_spec
from engine.store import Store
from engine.runtime.job_pool import JobPool
from ui.jobs import get_job_manager

__all__ = ["settings", "open_store", "job_manager", "show_error"]


def settings() -> Settings:
    """Settings of this app process (from ``MATLOOP_*`` environment variables)."""
    return settings_from_env()


def show_error(message: str) -> None:
    """An error box with a message, and nothing else of the page."""
    st.error(message, icon=":material/error:")


def open_store() -> Store:
    """The app's store; on failure an error box explains why and the page stops."""
    config = settings()
    try:
        parse_executor_spec(config.executor)
    except ValueError as exc:
        show_error(f"The executor setting (MATLOOP_EXECUTOR) is invalid: {exc}")
        st.stop()
    try:
        return Store(config.store, create_directory=config.store_is_default)
    except ValueError as exc:
        show_error(f"The campaign store (MATLOOP_STORE) cannot be used: {exc}")
        st.stop()
        raise  # unreachable: st.stop() ends the script run


def job_manager(store: Store) -> JobPool:
    """The app-wide job pool of ``store``."""
    return get_job_manager(str(store.path))
