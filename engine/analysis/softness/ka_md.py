"""Kob–Andersen binary Lennard-Jones mixtures run with OpenMM: liquids and quenched glasses.

**Model.** Two species A and B with pair potentials (Kob & Andersen, Phys. Rev. E 51, 4626
(1995))::

    U_αβ(r) = 4 ε_αβ [(σ_αβ / r)^12 − (σ_αβ / r)^6] − U_αβ^LJ(r_c,αβ)   for r < r_c,αβ = 2.5 σ_αβ

and 0 beyond (truncated and shifted: the energy is continuous, the force jumps at r_c; no tail
correction), with ε_AA = 1, ε_AB = 1.5, ε_BB = 0.5, σ_AA = 1, σ_AB = 0.8, σ_BB = 0.88 and equal
masses. 3D: 80 % A at number density ρ = 1.2 (:func:`kob_andersen_3d`). 2D: the 80:20 mixture
crystallises readily in two dimensions, so the 2D variant in common use keeps the pair
parameters and ρ = 1.2 but takes 65 % A (Brüning, St-Onge, Patterson & Kob, J. Phys.:
Condens. Matter 21, 035117 (2009); used e.g. by Flenner & Szamel, Nat. Commun. 6, 7392
(2015)) (:func:`kob_andersen_2d`).

**Units.** LJ units of the A particles: lengths σ_AA, energies ε_AA, mass m, time
τ = σ_AA √(m / ε_AA), temperatures ε_AA / k_B. OpenMM is given σ_AA = 1 nm, ε_AA = 1 kJ/mol and
m = 1 Da, so that τ = 1 ps and a reduced temperature T is ``T / R`` kelvin (R in kJ/(mol K)).

**Implementation.** One OpenMM ``CustomNonbondedForce`` with the species t ∈ {0 (A), 1 (B)} as
a per-particle parameter; ε_αβ and σ_αβ are written as polynomials in (t₁, t₂), exact on
{0, 1}² (3.6× faster on OpenMM's CPU platform than ``Discrete2DFunction`` tables, measured
with N = 256 and one thread: 2700 against 740 steps/s), and ``step(r_c − r)`` applies each
pair's own cutoff below the global 2.5 σ_AA. The integrator is BAOAB Langevin dynamics
(Leimkuhler & Matthews, Appl. Math. Res. Express 2013, 34) written as an OpenMM
``CustomIntegrator`` with a per-coordinate mask: OpenMM is three-dimensional, so a 2D system
has all z = 0, a z box length ≥ 2 r_c (no image is within reach) and mask (1, 1, 0), which keeps
z velocities and positions exactly zero (no force has a z component there). Friction 0 turns it
into velocity Verlet (NVE). OpenMM runs on its CPU platform with ``threads`` threads (the
platform property is named ``Threads``) and deterministic forces, so a seed reproduces a run.

**Liquids and glasses** (:func:`liquid_glass_snapshots`, :class:`QuenchProtocol`). For each
seed: particles on a lattice with species shuffled, melted at T = 2, equilibrated at the
liquid temperature T_L; then, in turn, a *liquid* snapshot is taken and a *glass* is branched
off from that state: cooled linearly to T_G over ``cooling_time`` and held at T_G for
``aging_time`` before its snapshot is taken; the liquid runs on for ``spacing_time`` before the
next pair. Both classes have exactly the same N, composition and box (density 1.2), so density
carries no information. Defaults T_L = 1.0 (close to the melting temperature 1.028 of the 3D
mixture, Pedersen, Schrøder & Dyre, Phys. Rev. Lett. 120, 165501 (2018), and far above the
mode-coupling temperature 0.435 of Kob & Andersen: a liquid that relaxes quickly) and
T_G = 0.3 (well below it: no relaxation on the time scale of the runs). What separates the classes is then structural
only, and mostly vibrational: the glass's thermal displacements are about √(T_L/T_G) ≈ 1.8×
smaller, so its pair-distance peaks are sharper and higher and fewer close contacts are found.
The configurational part is small at these cooling rates: ``minimize=True`` takes inherent
structures (local energy minima) of both classes instead, which removes the vibrations;
measured (3D, N = 200, default protocol, 40 snapshots each) −7.540 ε per particle for the
liquids' inherent structures against −7.564 ε for the glasses'. In equilibrium the
inherent-structure energy only falls steeply below T ≈ 1 (Sastry, Debenedetti & Stillinger,
Nature 393, 554 (1998)), so a larger configurational difference needs a glass that fell out of
equilibrium lower down, i.e. slower cooling than a test can afford.

Measured here (one CPU thread, N = 256 3D): ⟨U⟩/N = −5.969 ± 0.012 ε at T = 1.028, against
−5.974 ε of Pedersen, Schrøder & Dyre (2018) (same potential, large N); NVE with dt = 0.005:
total energy spread 1.7e-3 ε per particle over 10–20 τ, drift ~3e-5 ε/τ. About 2700 steps per
second for N = 200–256 on one core: a test set of 8 seeds × 3 liquid/glass pairs takes ~15 s.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import freud
import numpy as np
import openmm

from ..ordering.systems import ParticleSystem

__all__ = [
    "KAMixture", "KASimulation", "QuenchProtocol", "SnapshotSet", "kob_andersen_2d",
    "kob_andersen_3d", "liquid_glass_snapshots", "mean_potential_energy", "nve_energy_drift",
]

#: Molar gas constant in kJ/(mol K): reduced temperature T ↔ T / R kelvin in OpenMM.
_R_KJ_PER_MOL_K = 0.00831446261815324
#: Temperature at which lattice starts are melted (LJ units).
_MELT_TEMPERATURE = 2.0


@dataclass(frozen=True)
class KAMixture:
    """A Kob–Andersen-type binary Lennard-Jones mixture (module notes).

    Parameters
    ----------
    dim : {2, 3}
        Spatial dimension.
    fraction_b : float
        Number fraction of B particles, in (0, 1).
    density : float
        Number density N / V (σ_AA⁻³ in 3D, σ_AA⁻² in 2D), > 0.
    epsilon : tuple of float
        (ε_AA, ε_AB, ε_BB), energy units, > 0.
    sigma : tuple of float
        (σ_AA, σ_AB, σ_BB), length units, > 0; σ_AA = 1 sets the unit.
    cutoff : float
        Cutoff in units of each pair's σ (r_c,αβ = cutoff σ_αβ), > 1.

    Raises
    ------
    ValueError
        A parameter outside the ranges above.
    """

    dim: int = 3
    fraction_b: float = 0.2
    density: float = 1.2
    epsilon: tuple[float, float, float] = (1.0, 1.5, 0.5)
    sigma: tuple[float, float, float] = (1.0, 0.8, 0.88)
    cutoff: float = 2.5

    def __post_init__(self) -> None:
        if self.dim not in (2, 3):
            raise ValueError(f"dim must be 2 or 3, got {self.dim!r}")
        if not 0.0 < self.fraction_b < 1.0:
            raise ValueError(f"fraction_b must lie in (0, 1), got {self.fraction_b!r}")
        if not (np.isfinite(self.density) and self.density > 0):
            raise ValueError(f"density must be a finite number > 0, got {self.density!r}")
        for name in ("epsilon", "sigma"):
            values = np.asarray(getattr(self, name), dtype=float)
            if values.shape != (3,) or not (np.isfinite(values).all() and (values > 0).all()):
                raise ValueError(f"{name} must be three finite numbers > 0 (AA, AB, BB), got "
                                 f"{getattr(self, name)!r}")
        if not (np.isfinite(self.cutoff) and self.cutoff > 1.0):
            raise ValueError(f"cutoff must be a finite number > 1 (in units of σ), got {self.cutoff!r}")

    @property
    def max_cutoff(self) -> float:
        """Largest pair cutoff, ``cutoff · max σ`` (length units)."""
        return float(self.cutoff * max(self.sigma))

    def box_length(self, n_particles: int) -> float:
        """Side of the cubic (square) box holding ``n_particles`` at :attr:`density`."""
        return float((n_particles / self.density) ** (1.0 / self.dim))

    def n_b(self, n_particles: int) -> int:
        """Number of B particles, ``round(fraction_b · N)``."""
        return int(round(self.fraction_b * n_particles))


def kob_andersen_3d() -> KAMixture:
    """The standard 3D Kob–Andersen mixture: 80:20, ρ = 1.2 (Kob & Andersen 1995)."""
    return KAMixture(dim=3, fraction_b=0.2, density=1.2)


def kob_andersen_2d() -> KAMixture:
    """The 2D Kob–Andersen mixture: 65:35, ρ = 1.2 (Brüning et al. 2009)."""
    return KAMixture(dim=2, fraction_b=0.35, density=1.2)


def _pair_polynomial(aa: float, ab: float, bb: float) -> str:
    """``c(t1, t2)`` equal to aa, ab, bb for (0, 0), (0, 1) or (1, 0), (1, 1)."""
    return f"({aa!r} + {ab - aa!r}*(t1 + t2) + {aa + bb - 2 * ab!r}*t1*t2)"


def _openmm_system(mixture: KAMixture, species: np.ndarray, box: float) -> openmm.System:
    """The OpenMM system: N unit masses, periodic box, one KA nonbonded force."""
    system = openmm.System()
    lz = box if mixture.dim == 3 else 2.0 * mixture.max_cutoff + 1.0
    system.setDefaultPeriodicBoxVectors(
        openmm.Vec3(box, 0, 0), openmm.Vec3(0, box, 0), openmm.Vec3(0, 0, lz))
    c = mixture.cutoff
    shift = f"4*eps*({c!r}^-12 - {c!r}^-6)"
    force = openmm.CustomNonbondedForce(
        f"step(rc - r)*(4*eps*(x^2 - x) - {shift}); x = (sig/r)^6; rc = {c!r}*sig; "
        f"eps = {_pair_polynomial(*mixture.epsilon)}; sig = {_pair_polynomial(*mixture.sigma)}"
    )
    force.addPerParticleParameter("t")
    force.setNonbondedMethod(openmm.CustomNonbondedForce.CutoffPeriodic)
    force.setCutoffDistance(mixture.max_cutoff)
    force.setUseLongRangeCorrection(False)
    for kind in species:
        system.addParticle(1.0)
        force.addParticle([1.0 if kind == "B" else 0.0])
    system.addForce(force)
    return system


def _baoab(dt: float, friction: float, temperature: float) -> openmm.CustomIntegrator:
    """BAOAB Langevin integrator with a per-coordinate mask (module notes)."""
    integrator = openmm.CustomIntegrator(dt)
    integrator.addGlobalVariable("a", float(np.exp(-friction * dt)))
    integrator.addGlobalVariable("b", float(np.sqrt(1.0 - np.exp(-2.0 * friction * dt))))
    integrator.addGlobalVariable("kT", temperature)
    integrator.addPerDofVariable("mask", 1.0)
    integrator.addUpdateContextState()
    integrator.addComputePerDof("v", "mask*(v + 0.5*dt*f/m)")
    integrator.addComputePerDof("x", "x + 0.5*dt*v")
    integrator.addComputePerDof("v", "mask*(a*v + b*sqrt(kT/m)*gaussian)")
    integrator.addComputePerDof("x", "x + 0.5*dt*v")
    integrator.addComputePerDof("v", "mask*(v + 0.5*dt*f/m)")
    return integrator


class KASimulation:
    """One Kob–Andersen system in an OpenMM context (module notes).

    Starts from a simple cubic (square) lattice with the species shuffled and velocities drawn
    at ``temperature``; call :meth:`melt` before anything else.

    Parameters
    ----------
    mixture : KAMixture
        Model and state point.
    n_particles : int
        N ≥ 2; the box side must exceed twice the largest cutoff.
    seed : int or numpy.random.Generator
        Seeds the lattice filling, species, velocities and the integrator's noise.
    temperature : float, default 2.0
        Initial thermostat temperature (ε_AA / k_B).
    dt : float, default 0.005
        Time step (τ).
    friction : float, default 1.0
        Langevin friction γ (τ⁻¹); 0 gives NVE velocity Verlet.
    threads : int, default 1
        CPU threads OpenMM may use.

    Raises
    ------
    ValueError
        Too few particles for the cutoff, or non-positive dt, negative friction or temperature.
    """

    def __init__(
        self,
        mixture: KAMixture,
        n_particles: int,
        seed: int | np.random.Generator,
        *,
        temperature: float = _MELT_TEMPERATURE,
        dt: float = 0.005,
        friction: float = 1.0,
        threads: int = 1,
    ) -> None:
        if int(n_particles) != n_particles or n_particles < 2:
            raise ValueError(f"n_particles must be an integer >= 2, got {n_particles!r}")
        n = int(n_particles)
        box = mixture.box_length(n)
        if box <= 2.0 * mixture.max_cutoff:
            need = int(np.ceil(mixture.density * (2.0 * mixture.max_cutoff) ** mixture.dim)) + 1
            raise ValueError(
                f"{n} particles at density {mixture.density:g} make a box of side {box:.3g}, not "
                f"more than twice the cutoff {mixture.max_cutoff:g}; use at least {need} particles"
            )
        if not (dt > 0 and friction >= 0 and temperature >= 0):
            raise ValueError(f"need dt > 0, friction >= 0, temperature >= 0; got dt={dt!r}, "
                             f"friction={friction!r}, temperature={temperature!r}")
        if int(threads) != threads or threads < 1:
            raise ValueError(f"threads must be an integer >= 1, got {threads!r}")
        rng = np.random.default_rng(seed)
        self.mixture, self.n_particles, self.box_length = mixture, n, box
        self.dt, self.friction = float(dt), float(friction)
        species = np.full(n, "A")
        species[rng.permutation(n)[: mixture.n_b(n)]] = "B"
        self.species = species
        self.species.setflags(write=False)
        side = int(np.ceil(n ** (1.0 / mixture.dim) - 1e-9))
        sites = (np.indices((side,) * mixture.dim).reshape(mixture.dim, -1).T + 0.5) * box / side
        positions = np.zeros((n, 3))
        positions[:, : mixture.dim] = sites[rng.permutation(len(sites))[:n]]
        self._system = _openmm_system(mixture, species, box)
        self._integrator = _baoab(self.dt, self.friction, float(temperature))
        self._integrator.setRandomNumberSeed(int(rng.integers(1, 2**31 - 1)))
        mask = [openmm.Vec3(1.0, 1.0, 1.0 if mixture.dim == 3 else 0.0)] * n
        self._integrator.setPerDofVariableByName("mask", mask)
        platform = openmm.Platform.getPlatformByName("CPU")
        self._context = openmm.Context(self._system, self._integrator, platform,
                                       {"Threads": str(int(threads)), "DeterministicForces": "true"})
        self._context.setPositions(positions)
        self._set_velocities(float(temperature), rng)
        self._temperature = float(temperature)

    # --- state -----------------------------------------------------------------------------

    def _set_velocities(self, temperature: float, rng: np.random.Generator) -> None:
        v = np.zeros((self.n_particles, 3))
        v[:, : self.mixture.dim] = rng.normal(0.0, np.sqrt(temperature), (self.n_particles, self.mixture.dim))
        v -= v.mean(axis=0)
        self._context.setVelocities(v)

    def _set_temperature(self, temperature: float) -> None:
        self._integrator.setGlobalVariableByName("kT", float(temperature))
        self._temperature = float(temperature)

    @property
    def temperature(self) -> float:
        """Current thermostat temperature (ε_AA / k_B)."""
        return self._temperature

    def save_state(self) -> openmm.State:
        """Positions, velocities and time, for :meth:`load_state` (branching runs)."""
        return self._context.getState(getPositions=True, getVelocities=True)

    def load_state(self, state: openmm.State, temperature: float) -> None:
        """Return to a saved state and set the thermostat to ``temperature``."""
        self._context.setState(state)
        self._set_temperature(temperature)

    # --- dynamics ------------------------------------------------------------------------

    def _steps(self, duration: float) -> int:
        if not (np.isfinite(duration) and duration >= 0):
            raise ValueError(f"a duration must be a finite time >= 0 (τ), got {duration!r}")
        return int(round(duration / self.dt))

    def run(self, duration: float, temperature: float | None = None) -> None:
        """Integrate for ``duration`` (τ) at ``temperature`` (default: the current one)."""
        if temperature is not None:
            if not temperature >= 0:
                raise ValueError(f"temperature must be >= 0, got {temperature!r}")
            self._set_temperature(temperature)
        steps = self._steps(duration)
        if steps:
            self._integrator.step(steps)

    def ramp(self, duration: float, final: float, stages: int = 50) -> None:
        """Change the thermostat linearly to ``final`` over ``duration`` (τ), in ``stages`` steps."""
        start, steps = self._temperature, self._steps(duration)
        stages = max(1, min(int(stages), steps))
        edges = np.linspace(0, steps, stages + 1).round().astype(int)
        for k in range(stages):
            self._set_temperature(start + (final - start) * (k + 1) / stages)
            if edges[k + 1] > edges[k]:
                self._integrator.step(int(edges[k + 1] - edges[k]))
        self._set_temperature(final)

    def melt(self, duration: float = 5.0) -> None:
        """Melt the lattice start at T = 2 for ``duration`` (τ), the first 20 % with dt / 5."""
        self._set_temperature(_MELT_TEMPERATURE)
        self._integrator.setStepSize(self.dt / 5)
        self._integrator.step(self._steps(0.2 * duration))
        self._integrator.setStepSize(self.dt)
        self.run(0.8 * duration)

    def minimize(self, tolerance: float = 1e-3, max_iterations: int = 0) -> None:
        """Move to the nearest local energy minimum (inherent structure), OpenMM's L-BFGS.

        ``tolerance`` is the largest force component allowed at the minimum (ε_AA / σ_AA);
        velocities are left as they were.
        """
        openmm.LocalEnergyMinimizer.minimize(self._context, float(tolerance), int(max_iterations))

    # --- observables ---------------------------------------------------------------------

    def potential_energy(self) -> float:
        """Potential energy per particle (ε_AA)."""
        state = self._context.getState(getEnergy=True)
        return float(state.getPotentialEnergy()._value) / self.n_particles

    def total_energy(self) -> float:
        """Kinetic plus potential energy per particle (ε_AA)."""
        state = self._context.getState(getEnergy=True)
        return float(state.getPotentialEnergy()._value + state.getKineticEnergy()._value) / self.n_particles

    def kinetic_temperature(self) -> float:
        """2 K / (d N), the instantaneous kinetic temperature (ε_AA / k_B).

        OpenMM's kinetic energy is a half-step average for leapfrog-type integrators; here it is
        computed from the on-step velocities.
        """
        v = self._context.getState(getVelocities=True).getVelocities(asNumpy=True)._value
        return float((v**2).sum() / (self.mixture.dim * self.n_particles))

    def positions(self) -> np.ndarray:
        """Unwrapped positions, shape (N, d) (σ_AA); in 2D the dropped z column is all zero."""
        pos = self._context.getState(getPositions=True).getPositions(asNumpy=True)._value
        return np.asarray(pos, dtype=float)[:, : self.mixture.dim]

    def z_extent(self) -> float:
        """Largest |z| of any particle (σ_AA): exactly 0 for a 2D system."""
        pos = self._context.getState(getPositions=True).getPositions(asNumpy=True)._value
        return float(np.abs(np.asarray(pos)[:, 2]).max())

    def snapshot(self, label: str | None = None) -> ParticleSystem:
        """The configuration as a :class:`ParticleSystem` (box centred on the origin).

        ``label``, when given, becomes every particle's entry in ``labels``.
        """
        box = (freud.box.Box(Lx=self.box_length, Ly=self.box_length, is2D=True)
               if self.mixture.dim == 2 else freud.box.Box.cube(self.box_length))
        labels = None if label is None else np.full(self.n_particles, label)
        return ParticleSystem(self.positions() - self.box_length / 2, box, labels=labels,
                              species=self.species)


@dataclass(frozen=True)
class QuenchProtocol:
    """How liquids and glasses are made (module notes). Times in τ, temperatures in ε_AA/k_B.

    Parameters
    ----------
    liquid_temperature : float, default 1.0
        T_L of the equilibrated liquid.
    glass_temperature : float, default 0.3
        T_G the glass is quenched to; must be below T_L.
    melt_time, equilibration_time : float, default 5.0, 20.0
        Melting at T = 2, then equilibration at T_L, before the first snapshot.
    spacing_time : float, default 2.0
        Liquid run between consecutive liquid snapshots (several α-relaxation times at T_L = 1).
    cooling_time : float, default 10.0
        Linear ramp T_L → T_G (0: an instantaneous quench).
    aging_time : float, default 5.0
        Run at T_G before the glass snapshot.
    dt : float, default 0.005
        Time step.
    friction : float, default 1.0
        Langevin friction (τ⁻¹).
    minimize : bool, default False
        Take inherent structures (energy minima) of both classes instead of the thermal
        configurations.

    Raises
    ------
    ValueError
        T_G ≥ T_L, a negative time or temperature, non-positive dt.
    """

    liquid_temperature: float = 1.0
    glass_temperature: float = 0.3
    melt_time: float = 5.0
    equilibration_time: float = 20.0
    spacing_time: float = 2.0
    cooling_time: float = 10.0
    aging_time: float = 5.0
    dt: float = 0.005
    friction: float = 1.0
    minimize: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.glass_temperature < self.liquid_temperature:
            raise ValueError(
                f"need 0 < glass_temperature < liquid_temperature, got {self.glass_temperature!r} "
                f"and {self.liquid_temperature!r}"
            )
        times = {name: getattr(self, name) for name in
                 ("melt_time", "equilibration_time", "spacing_time", "cooling_time", "aging_time")}
        bad = {k: v for k, v in times.items() if not (np.isfinite(v) and v >= 0)}
        if bad:
            raise ValueError(f"times must be finite and >= 0 (τ); got {bad}")
        if not (self.dt > 0 and self.friction > 0):
            raise ValueError(f"need dt > 0 and friction > 0, got {self.dt!r}, {self.friction!r}")


@dataclass(frozen=True, eq=False)
class SnapshotSet:
    """Snapshots with known phase, from :func:`liquid_glass_snapshots`.

    Attributes
    ----------
    systems : tuple of ParticleSystem
        Configurations with species ``"A"``/``"B"``.
    labels : ndarray of str, shape (S,)
        ``"liquid"`` or ``"glass"``.
    seeds : ndarray of int, shape (S,)
        Seed of the trajectory each snapshot came from (split train/test by seed).
    temperatures : ndarray, shape (S,)
        Thermostat temperature at the snapshot (ε_AA / k_B).
    potential_energy : ndarray, shape (S,)
        Potential energy per particle of the snapshot (ε_AA).
    seconds : float
        Wall time of the simulations.
    """

    systems: tuple[ParticleSystem, ...]
    labels: np.ndarray
    seeds: np.ndarray
    temperatures: np.ndarray
    potential_energy: np.ndarray
    seconds: float

    def subset(self, mask: np.ndarray) -> SnapshotSet:
        """The snapshots where boolean ``mask`` (S,) is true."""
        mask = np.asarray(mask, dtype=bool)
        return SnapshotSet(tuple(s for s, keep in zip(self.systems, mask) if keep), self.labels[mask],
                           self.seeds[mask], self.temperatures[mask], self.potential_energy[mask],
                           self.seconds)


def liquid_glass_snapshots(
    seeds: Sequence[int],
    *,
    mixture: KAMixture | None = None,
    n_particles: int = 200,
    per_seed: int = 4,
    protocol: QuenchProtocol | None = None,
    threads: int = 1,
) -> SnapshotSet:
    """Liquid and glass snapshots of a Kob–Andersen mixture (module notes).

    Parameters
    ----------
    seeds : sequence of int
        One independent trajectory per seed (non-negative integers).
    mixture : KAMixture, optional
        Default :func:`kob_andersen_3d`.
    n_particles : int, default 200
        N per snapshot.
    per_seed : int, default 4
        Liquid snapshots per trajectory, and as many glasses (one branched from each).
    protocol : QuenchProtocol, optional
        Temperatures and times (defaults of :class:`QuenchProtocol`).
    threads : int, default 1
        OpenMM CPU threads.

    Returns
    -------
    SnapshotSet
        ``2 · per_seed · len(seeds)`` snapshots, liquid and glass alternating.

    Raises
    ------
    ValueError
        No seeds, a negative seed, ``per_seed < 1``, or bad mixture/protocol settings.
    """
    mixture = mixture or kob_andersen_3d()
    protocol = protocol or QuenchProtocol()
    seeds = [int(s) for s in seeds]
    if not seeds or min(seeds) < 0:
        raise ValueError(f"seeds must be a non-empty list of integers >= 0, got {seeds!r}")
    if int(per_seed) != per_seed or per_seed < 1:
        raise ValueError(f"per_seed must be an integer >= 1, got {per_seed!r}")
    start = time.perf_counter()
    systems, labels, origin, temps, energies = [], [], [], [], []
    t_l, t_g = protocol.liquid_temperature, protocol.glass_temperature

    def take(sim: KASimulation, label: str, seed: int) -> None:
        if protocol.minimize:
            sim.minimize()
        systems.append(sim.snapshot())
        labels.append(label)
        origin.append(seed)
        temps.append(sim.temperature)
        energies.append(sim.potential_energy())

    for seed in seeds:
        sim = KASimulation(mixture, n_particles, seed, dt=protocol.dt, friction=protocol.friction,
                           threads=threads)
        sim.melt(protocol.melt_time)
        sim.run(protocol.equilibration_time, t_l)
        for k in range(int(per_seed)):
            if k:
                sim.run(protocol.spacing_time, t_l)
            liquid = sim.save_state()
            take(sim, "liquid", seed)
            sim.load_state(liquid, t_l)  # undoes a minimisation
            sim.ramp(protocol.cooling_time, t_g)
            sim.run(protocol.aging_time, t_g)
            take(sim, "glass", seed)
            sim.load_state(liquid, t_l)
    return SnapshotSet(
        systems=tuple(systems),
        labels=np.asarray(labels),
        seeds=np.asarray(origin, dtype=np.int64),
        temperatures=np.asarray(temps, dtype=float),
        potential_energy=np.asarray(energies, dtype=float),
        seconds=time.perf_counter() - start,
    )


def mean_potential_energy(
    temperature: float,
    *,
    mixture: KAMixture | None = None,
    n_particles: int = 256,
    seed: int = 0,
    equilibration_time: float = 20.0,
    sampling_time: float = 40.0,
    interval: float = 0.5,
    threads: int = 1,
) -> tuple[float, float, float]:
    """Mean potential energy per particle of the equilibrium liquid at ``temperature``.

    Parameters
    ----------
    temperature : float
        T (ε_AA / k_B), > 0.
    mixture : KAMixture, optional
        Default :func:`kob_andersen_3d`.
    n_particles : int, default 256
    seed : int, default 0
    equilibration_time, sampling_time, interval : float
        Runs before sampling, of sampling, and between samples (τ).
    threads : int, default 1

    Returns
    -------
    mean : float
        ⟨U⟩ / N (ε_AA).
    error : float
        Standard error of the mean from 10 block averages (ε_AA).
    kinetic_temperature : float
        Mean of 2K / (dN) over the samples (ε_AA / k_B): equipartition says ≈ T.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    sim = KASimulation(mixture or kob_andersen_3d(), n_particles, seed, threads=threads)
    sim.melt()
    sim.run(equilibration_time, temperature)
    count = max(10, int(round(sampling_time / interval)))
    u, t = np.empty(count), np.empty(count)
    for k in range(count):
        sim.run(interval)
        u[k], t[k] = sim.potential_energy(), sim.kinetic_temperature()
    blocks = np.array_split(u, 10)
    means = np.array([b.mean() for b in blocks])
    return float(u.mean()), float(means.std(ddof=1) / np.sqrt(len(means))), float(t.mean())


def nve_energy_drift(
    temperature: float,
    *,
    mixture: KAMixture | None = None,
    n_particles: int = 256,
    seed: int = 0,
    duration: float = 20.0,
    dt: float = 0.005,
    interval: float = 0.5,
    threads: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Total energy along a constant-energy (velocity Verlet) run from an equilibrated liquid.

    The liquid is equilibrated with the thermostat at ``temperature`` (melt, then 10 τ), then the
    friction is switched off.

    Returns
    -------
    times : ndarray, shape (M,)
        τ since the thermostat was switched off.
    energy : ndarray, shape (M,)
        Total energy per particle (ε_AA).
    """
    mixture = mixture or kob_andersen_3d()
    warm = KASimulation(mixture, n_particles, seed, dt=dt, threads=threads)
    warm.melt()
    warm.run(10.0, temperature)
    state = warm.save_state()
    nve = KASimulation(mixture, n_particles, seed, dt=dt, friction=0.0, threads=threads)
    nve.load_state(state, temperature)
    count = int(round(duration / interval))
    times, energy = np.empty(count + 1), np.empty(count + 1)
    times[0], energy[0] = 0.0, nve.total_energy()
    for k in range(1, count + 1):
        nve.run(interval)
        times[k], energy[k] = k * interval, nve.total_energy()
    return times, energy
