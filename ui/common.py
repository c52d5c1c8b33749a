"""What every page needs: settings, the store (or an error box), the job manager."""

from __future__ import annotations

import math
import re
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from engine.runtime.config import Settings, settings_from_env
from engine.runtime.executors import parse_executor_spec
from engine.store import Store
from engine.runtime.job_pool import JobPool
from ui.jobs import get_job_manager

__all__ = ["settings", "open_store", "job_manager", "show_error", "theme_safe_colours", "CheckedNumbers",
           "describe_range"]

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


def _number_text(value: int | float) -> str:
    """A number as a person writes it: integers in full, floats in ``%g``."""
    return str(value) if isinstance(value, int) else f"{value:g}"


def describe_range(low: int | float, high: int | float, unit: str = "", *, open_low: bool = False,
                   open_high: bool = False) -> str:
    """The allowed range in words, e.g. ``"1 to 200 mm"`` or ``"more than 0 and less than 1 mm"``."""
    suffix = f" {unit}" if unit else ""
    if low == high and not open_low and not open_high:
        return f"{_number_text(low)}{suffix}"
    if not open_low and not open_high:
        return f"{_number_text(low)} to {_number_text(high)}{suffix}"
    lower = f"more than {_number_text(low)}" if open_low else f"at least {_number_text(low)}"
    upper = f"less than {_number_text(high)}" if open_high else f"at most {_number_text(high)}"
    return f"{lower} and {upper}{suffix}"


class CheckedNumbers:
    """The number inputs of one page run, whose range the page checks instead of the widget.

    Streamlit 1.67 does not refuse a number outside ``min_value``/``max_value`` of
    ``st.number_input``, it replaces it: the browser marks the box red and does not send the
    value (the script keeps the previous one), and a value that reaches the server anyway is
    replaced by the widget's default (``NumberInputSerde.deserialize``). The box then shows one
    number while the page computes with another (a cell edge of 0.5 mm gave a 10 mm STL).

    The inputs made by :meth:`number` have no bounds in the widget, so what is typed reaches the
    page; a value outside its range gets an error box under the input naming the input, the
    range and the unit, and :meth:`number` returns None. Pages start nothing while :attr:`ok`
    is False: buttons are disabled, form submits refused.

    Attributes
    ----------
    refused : list of str
        Labels of the inputs refused so far in this run.
    """

    def __init__(self) -> None:
        self.refused: list[str] = []

    @property
    def ok(self) -> bool:
        """True when no input was refused."""
        return not self.refused

    def number(self, label: str, value: int | float | None, min_value: int | float, max_value: int | float,
               unit: str = "", *, where: Any = None, open_low: bool = False, open_high: bool = False,
               help: str | None = None, reason: str | None = None, **widget: Any) -> int | float | None:
        """A number input checked against ``[min_value, max_value]`` (bounds open where asked).

        Parameters
        ----------
        label : str
            Widget label; the error message names the input by it.
        value : int, float or None
            Initial value (None: an empty input, which is allowed and returned as None).
        min_value, max_value : int or float
            Allowed range; both int makes an integer input.
        unit : str
            Unit of the value in messages ("" for a count).
        where : streamlit container, optional
            Where the input and its message go (a column, the sidebar); ``st`` by default.
        open_low, open_high : bool
            Whether the bound itself is excluded.
        help : str, optional
            Tooltip; the allowed range is appended.
        reason : str, optional
            Why the range is what it is, added to the error message (e.g. "tiling needs the periodic variant").
        **widget
            Further ``st.number_input`` arguments (``key``, ``step``, ``format``, ``placeholder``).

        Returns
        -------
        int, float or None
            The value typed, or None when it is outside the range (or the input is empty).
        """
        where = st if where is None else where
        allowed = describe_range(min_value, max_value, unit, open_low=open_low, open_high=open_high)
        if isinstance(min_value, int) and isinstance(max_value, int):
            widget.setdefault("step", 1)  # an integer input: Streamlit types it by its arguments
        text = f"{help.rstrip('.')}. Allowed: {allowed}." if help else f"Allowed: {allowed}."
        got = where.number_input(label, value=value, help=text, **widget)
        if got is None:
            return None
        above_low = got > min_value if open_low else got >= min_value
        below_high = got < max_value if open_high else got <= max_value
        if math.isfinite(got) and above_low and below_high:
            return got
        shown = f"{_number_text(got)} {unit}".strip()
        why = f" ({reason})" if reason else ""
        where.error(f"{label} must be {allowed}{why}, not {shown}: nothing runs with it until it is in range.",
                    icon=":material/error:")
        self.refused.append(label)
        return None

    def summary(self, action: str, where: Any = None) -> None:
        """Beside an action: an error box naming the refused inputs (which may sit in a closed expander)."""
        if self.refused:
            (st if where is None else where).error(
                f"{action} waits for inputs in range: {', '.join(self.refused)}.", icon=":material/error:")
