"""What every page needs: settings, the store (or an error box), the job manager."""

from __future__ import annotations

import re
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from engine.runtime.config import Settings, settings_from_env
from engine.runtime.executors import parse_executor_spec
from engine.store import Store
from engine.runtime.job_pool import JobPool
from ui.jobs import get_job_manager

__all__ = ["settings", "open_store", "job_manager", "show_error", "theme_safe_colours"]

#: Colours Streamlit's plotly theme uses as placeholders for its own (#000001 … #000040). The
#: browser replaces them wherever they occur in a figure's JSON, data included, and with
#: ``theme=None`` too (by plotly's colours): Inferno and Magma start at #000004, so d = 0 of a damage
#: map came out pink (``theme="streamlit"``) or purple (``theme=None``). Measured with Streamlit 1.67.
_THEME_PLACEHOLDER = re.compile(r"#0000(?:0[1-9]|[1-3][0-9]|40)")


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


def _rgb_for_placeholders(value: Any) -> Any:
    """``value`` (figure JSON) with every placeholder colour written as the same ``rgb()`` colour."""
    if isinstance(value, str):
        if _THEME_PLACEHOLDER.fullmatch(value.strip()):
            hexa = value.strip()[1:]
            return f"rgb({int(hexa[0:2], 16)}, {int(hexa[2:4], 16)}, {int(hexa[4:6], 16)})"
        return value
    if isinstance(value, dict):
        return {key: _rgb_for_placeholders(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rgb_for_placeholders(item) for item in value]
    return value


def theme_safe_colours(figure: go.Figure) -> go.Figure:
    """A copy of ``figure`` that Streamlit draws in the figure's own colours: colours that are
    theme placeholders (#000001 … #000040, e.g. the first colour of Inferno and Magma) are
    written as the same colour in ``rgb()`` form.

    Needed before ``st.plotly_chart`` for a figure whose colour scale or fixed colours hold one
    of them; a no-op for the others. The theme's template (``layout.template``), whose
    placeholders are meant to be replaced, is kept as it is.
    """
    spec = figure.to_dict()
    template = spec.get("layout", {}).pop("template", None)
    spec = _rgb_for_placeholders(spec)
    if template is not None:
        spec["layout"]["template"] = template
    return go.Figure(spec)
