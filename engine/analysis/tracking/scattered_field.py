"""Scattered electric field of a sphere at many points, near field included (B&H §4.4).

The incident wave is ``E_0 exp(ikz) ê_x`` (``E_0 = 1``, time ``exp(−iωt)``, phase zero at the
sphere's centre, propagating along +z). Outside the sphere (B&H eqs. 4.40, 4.45, 4.50)

    E_s = Σ_n E_n (i a_n N⁽³⁾_e1n − b_n M⁽³⁾_o1n),   E_n = iⁿ (2n+1) / (n(n+1)),

which in spherical components (ρ = kr, μ = cos θ, ``ξ_n = ρ h_n^(1)(ρ)``) reads

    E_r = cos φ T_r,   E_θ = cos φ T_θ,   E_φ = −sin φ T_φ,
    T_r = sin θ / ρ² Σ E_n i a_n n(n+1) π_n ξ_n,
    T_θ = 1/ρ Σ E_n (i a_n τ_n ξ_n' − b_n π_n ξ_n),
    T_φ = 1/ρ Σ E_n (i a_n π_n ξ_n' − b_n τ_n ξ_n),

with ``ξ_n' = ξ_{n−1} − n ξ_n / ρ`` and the angular functions from the upward recurrences
(B&H eq. 4.47) ``π_n = ((2n−1) μ π_{n−1} − n π_{n−2})/(n−1)``, ``τ_n = n μ π_n − (n+1) π_{n−1}``.
In Cartesian components, with ``c = cos φ``, ``s = sin φ`` and three functions of the distance
from the axis only (on a plane ``z = const``),

    P = μ T_θ + sin θ T_r,   Q = T_φ,   R = μ T_r − sin θ T_θ,

x-polarised light gives ``E = (c² P + s² Q, s c (P − Q), c R)``. The sphere is isotropic, so
y-polarised light gives the same turned by 90° about z, ``(s c (P − Q), s² P + c² Q, s R)``, and
a Jones vector ``(p_x, p_y)`` the sum weighted by ``p_x`` and ``p_y``.

:func:`scattered_field` sums the series at every point; the loop runs over the ``n_max`` orders
(tens), never over points. :func:`scattered_field_plane` serves a plane ``z = const`` (a
camera image): there the profiles ``T`` depend on the in-plane distance only, so it sums the
series on a 1D table of distances, interpolates ``P, Q, R`` divided by their carrier
``exp(ikr)`` (slowly varying) with a cubic spline, and puts the carrier back exactly. With the
default step (0.05 in units of 1/k) it agrees with the exact sum to ~1e-13 of the incident
field at the usual depths (1e-7 with the plane 0.5 µm from a 2 µm sphere's surface).
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline

__all__ = ["scattered_field", "scattered_field_plane"]


def scattered_field(points: np.ndarray, a: np.ndarray, b: np.ndarray,
                    polarization: tuple[complex, complex] = (1.0, 0.0), radial: bool = True) -> np.ndarray:
    """Cartesian scattered field of a sphere at points given in units of ``1/k``.

    Parameters
    ----------
    points : ndarray of float, shape (N, 3)
        Dimensionless displacements ``k (r − r_p)`` from the sphere's centre (``k`` the wavenumber
        in the medium); the incident wave travels along +z. Points must lie outside the sphere
        (``|k r| > x``), where this expansion holds.
    a, b : ndarray of complex, shape (n_max,)
        Mie coefficients (:func:`.mie_coefficients.mie_coefficients`).
    polarization : (complex, complex), default (1, 0)
        Jones vector ``(p_x, p_y)`` of the incident field, in units of its amplitude.
    radial : bool, default True
        Include ``E_r``. It falls off as ``1/(kr)²`` against ``1/(kr)`` for ``E_θ, E_φ``;
        HoloPy leaves it out by default (``False`` here reproduces HoloPy's holograms).

    Returns
    -------
    ndarray of complex, shape (N, 3)
        ``(E_x, E_y, E_z)`` in units of the incident amplitude.

    Raises
    ------
    ValueError
        ``points`` not of shape (N, 3), not finite, or at the sphere's centre.
    """
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 3 or not np.all(np.isfinite(points)):
        raise ValueError(f"points must be a finite (N, 3) array of k(r - r_p); got shape {points.shape}")
    x, y, z = points.T
    rho_xy = np.hypot(x, y)
    if np.any(np.hypot(rho_xy, z) == 0):
        raise ValueError("the scattered field is undefined at the sphere's centre")
    return _assemble(x, y, rho_xy, _profiles(rho_xy, z, a, b, radial), polarization)


def scattered_field_plane(x: np.ndarray, y: np.ndarray, z: float, a: np.ndarray, b: np.ndarray,
                          polarization: tuple[complex, complex] = (1.0, 0.0), radial: bool = True,
                          step: float = 0.05) -> np.ndarray:
    """Scattered field at points of one plane ``z = const``, through a radial table (module notes).

    Parameters
    ----------
    x, y : ndarray of float, shape (N,)
        In-plane displacements ``k (x − x_p)``, ``k (y − y_p)`` (dimensionless).
    z : float
        ``k (z − z_p)`` of the plane, nonzero (the plane must miss the sphere: ``|z| > x_size``).
    a, b, polarization, radial
        As :func:`scattered_field`.
    step : float, default 0.05
        Spacing of the table of in-plane distances, in units of ``1/k`` (> 0).

    Returns
    -------
    ndarray of complex, shape (N, 3)

    Raises
    ------
    ValueError
        Non-finite input, ``z = 0`` or ``step ≤ 0``.
    """
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    z = float(z)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.isfinite(z)) or z == 0:
        raise ValueError("x, y must be finite and z finite and nonzero (the plane must miss the sphere)")
    if not step > 0:
        raise ValueError(f"step must be positive (units of 1/k); got {step!r}")
    rho_xy = np.hypot(x, y)
    table = np.arange(int(np.ceil(rho_xy.max(initial=0.0) / step)) + 4) * step
    envelope = np.stack(_profiles(table, np.full_like(table, z), a, b, radial), axis=1)
    envelope *= np.exp(-1j * np.hypot(table, z))[:, None]
    # piecewise cubic coefficients laid out (4, 3, intervals): gathering along the last axis
    # keeps every row contiguous (several times faster than gathering rows of spline.c)
    coefficients = np.ascontiguousarray(CubicSpline(table, envelope, axis=0).c.transpose(0, 2, 1))
    index = np.minimum((rho_xy * (1.0 / step)).astype(np.intp), len(table) - 2)
    t = rho_xy - table[index]
    c0, c1, c2, c3 = np.take(coefficients, index, axis=-1)
    values = ((c0 * t + c1) * t + c2) * t + c3
    values *= np.exp(1j * np.hypot(rho_xy, z))
    return _assemble(x, y, rho_xy, (values[0], values[1], values[2]), polarization)


def _profiles(rho_xy: np.ndarray, z: np.ndarray, a: np.ndarray, b: np.ndarray,
              radial: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``P, Q, R`` (module notes) at in-plane distances and heights in units of 1/k."""
    rho = np.hypot(rho_xy, z)
    inv_rho = 1.0 / rho
    mu, sin_theta = z * inv_rho, rho_xy * inv_rho
    phase = np.exp(1j * rho)
    xi_prev, xi = phase, -1j * phase                    # ξ_{−1}, ξ_0
    pi_prev, pi = np.zeros_like(mu), np.ones_like(mu)   # π_0, π_1
    s_r = np.zeros(rho.shape, dtype=complex)
    s_theta = np.zeros(rho.shape, dtype=complex)
    s_phi = np.zeros(rho.shape, dtype=complex)
    for n in range(1, len(a) + 1):
        if n > 1:
            pi_prev, pi = pi, ((2 * n - 1) * mu * pi - n * pi_prev) / (n - 1)
        xi_prev, xi = xi, (2 * n - 1) * inv_rho * xi - xi_prev
        dxi = xi_prev - n * inv_rho * xi
        tau = n * mu * pi - (n + 1) * pi_prev
        e_n = 1j ** n * (2 * n + 1) / (n * (n + 1))
        ia, mb = e_n * 1j * a[n - 1], -e_n * b[n - 1]
        pi_xi = pi * xi
        s_theta += ia * tau * dxi + mb * pi_xi
        s_phi += ia * pi * dxi + mb * tau * xi
        if radial:
            s_r += (ia * n * (n + 1)) * pi_xi
    t_theta, t_phi = s_theta * inv_rho, s_phi * inv_rho
    t_r = s_r * (sin_theta * inv_rho**2)
    return mu * t_theta + sin_theta * t_r, t_phi, mu * t_r - sin_theta * t_theta


def _assemble(x: np.ndarray, y: np.ndarray, rho_xy: np.ndarray,
              profiles: tuple[np.ndarray, np.ndarray, np.ndarray],
              polarization: tuple[complex, complex]) -> np.ndarray:
    """Cartesian field from ``P, Q, R`` for a Jones vector (module notes), shape (N, 3)."""
    p, q, r = profiles
    on_axis = rho_xy == 0
    safe = np.where(on_axis, 1.0, rho_xy)
    c = np.where(on_axis, 1.0, x / safe)
    s = np.where(on_axis, 0.0, y / safe)
    px, py = complex(polarization[0]), complex(polarization[1])
    cc, ss, sc = c * c, s * s, s * c
    diff = sc * (p - q)
    field = np.empty((len(rho_xy), 3), dtype=complex)
    if py == 0:
        field[:, 0] = px * (cc * p + ss * q)
        field[:, 1] = px * diff
        field[:, 2] = px * (c * r)
    else:
        field[:, 0] = px * (cc * p + ss * q) + py * diff
        field[:, 1] = px * diff + py * (ss * p + cc * q)
        field[:, 2] = (px * c + py * s) * r
    return field
