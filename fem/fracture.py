"""Label checkerboard designs by phase-field (or LEFM) fracture of an edge-cracked plate.

Set-up (defaults from Gu, Chen & Buehler 2018 in mode I, Miehe, Hofacker & Welschinger 2010 in
mode II): unit square plate (1 mm × 1 mm, unit thickness) whatever the grid of blocks drawn on it,
slit crack from the left edge at mid-height of length ``crack_length`` (0.2 mm in mode I, 0.5 mm
in mode II), top and bottom edges bonded to rigid grips through a thin elastic layer
(``grips="bonded"``, :mod:`fem.grips`; see "Grips"), the bottom grip fixed, the top one pulled
(mode I) or sheared (mode II), plane stress by default.

Length scale and mesh: the phase-field length ``ell`` is a physical length (default 1/32 mm, a
quarter of a block of the 8×8 grid). The Q1 mesh has elements of at most ``element_size``
(default ``ℓ/2``) in both directions, with the interfaces (block edges where the phase changes,
:func:`fem.plate_mesh.interfaces`), the crack plane and the crack tip on mesh lines
(:func:`fem.mesh_quad.interface_axis`), so one plate gets the same mesh and the same labels on
any grid it is drawn on (an all-stiff plate: 27.13 MPa on 2×8, 8×8, 8×16 and 16×16 grids; up to
solver version 9 every block edge was a mesh line, and the 8×16 and 16×16 drawings, whose
crack-tip block column was meshed differently, gave 27.02 MPa; with ℓ a quarter of a block, solver
version 2 gave 28.2 MPa on 8×8 and 22.2 MPa on 16×16). ``elements_per_block`` instead sets the
element size from the block size (``block side / n`` along each axis). A mesh that does not
resolve ℓ (an element longer than ``ℓ/2`` in either direction) is refused: against h = ℓ/2, the
all-stiff 8×8 plate came out 4 % stronger with h = ℓ, 11 % with 2ℓ and 21 % with one element
per block (4ℓ).
The default palette's toughness follows from the failure strains at this ℓ
(:func:`fem.materials.gc_from_failure_strain`), so each phase keeps its 40 MPa strength.

Metrics (nominal stress ``σ = F / width`` in MPa, nominal strain ``ε = u / height``):

- ``stiffness``: initial modulus ``σ/ε`` of the undamaged cracked plate (one elastic solve, as the fast
  fidelity; MPa; solver versions up to 8: the secant at the first load step);
- ``strength``: peak nominal stress (MPa) and ``strain_at_peak``;
- ``toughness``: work of fracture per unit volume, the area under σ–ε up to failure
  (MJ/m³ = MPa; what Gu et al. 2018 and the reviewed papers call toughness), where **failure** is the first
  point after the peak at which σ falls below ``end_fraction`` (default 10 % in mode I, 0.5 % in
  mode II) of the peak (linearly interpolated) or, with ``through_crack`` (mode II's default),
  the load step at which the crack from the notch reaches an edge; the run ends there
  (end-of-test criterion) or at ``max_strain`` (0.5 in mode I, 2 in mode II);
- ``dissipated_energy``: phase-field fracture energy at the end (mJ per mm thickness).

Fidelities: ``"fast"`` (one linear solve, :mod:`fem.lefm`), ``"strength"`` (AT2 run stopped
once σ < 0.85 σ_peak), ``"full"`` (AT2 run to failure). The fast ``G/σ²`` and ``|K|/σ`` are those of
this gripped plate, whose ends the grips hold square: smaller than the handbook's single-edge-notched
plate with free ends (Tada's ``K = σ sqrt(πa) F(a/W)``: 1.09 √mm at a = 0.2 mm against 0.74 clamped and
0.81 bonded for the all-stiff plate; :func:`fem.lefm.solve_linear_crack` with traction-loaded ends
gives the free-end value, which ``tests/test_fem_lefm.py`` checks against Tada).

Energy split (``split``): damage is driven by the tensile part of the strain energy in the
hybrid formulation of Ambati et al. 2015 (:mod:`fem.phasefield_split`), and where compression
dominates all around a node its damage does not grow unless the node lies in a band already
(d ≥ 1/2; solver version 8; version 7 held the bands too, versions up to 6 only cut the driving
energy there, and the diffuse AT2 tail of a crack spread into the compressed material beside
it). The default is no split in mode I (the Miehe tension benchmark is matched without one) and
the spectral split in mode II, where without a split the compressed side cracks too
and the Miehe shear benchmark's peak comes out 8 % low (see ``tests/test_fem_fracture.py``).

Grips (solver versions 7 to 9). Up to version 6 the grips were clamped (the edges' displacements
prescribed): they force one displacement on the soft and stiff blocks of the first and last
rows, whose corners at the rigid edge carry singular stresses and started cracks that ran along
the grips (mode I needed damage-free strips, "Mode I grips" below). Now each edge is bonded to its
grip through a thin elastic layer (:func:`fem.grips.bond_layer`: 1/64 mm of a tenth of the stiffest
phase's modulus, ν = 0.33; for the default phases E = 100 MPa, :data:`fem.grips.ADHESIVE`), modelled as
springs (``k_n`` = 7.2e3, ``k_t`` = 2.4e3 N/mm³ for the default phases) whose tractions stay bounded, and the
layer does not crack: damage that reaches an edge decays into it undriven, which the damage
equation sees as a Robin condition (:func:`fem.grips.bond_damage_sink`; it equals a meshed,
undriven layer, ``tests/test_fem_grips.py``). Mode II also ends at 0.5 % of the peak instead of 10 %
(2 % in version 7) and runs to ε = 2 instead of 1: cracks that overlap en echelon still carried a
few per cent of the peak while the crack from the tip ran on to an edge. ``grips="clamped"`` gives the old grips
(with ``grip_strip`` 2ℓ in mode I by default). Measured with
``tests/benchmarks/bench_failure_paths.py`` (80 random 8×8 plates, seeds 1000–1079, full labels;
bands of d > 0.9 in mode II, d > 0.5 in mode I; "along a grip": a band within ℓ of a grip over more
than 4ℓ; the variants without a row of their own in the code were scripted for the comparison):

====  =================================================  =====  ======  ===========  ===================
mode  set-up                                             broke  at tip  tip to edge  along a grip
====  =================================================  =====  ======  ===========  ===================
II    version 6: clamped, end 10 %, ε ≤ 1               79     79      60           6 (0.19–0.59 mm)
II    clamped, end 2 %                                   76     79      74           6
II    springs alone (no sink, no hold), end 10 %         78     79      58           4 (0.14–0.23 mm)
II    meshed layer (1/64 mm, undriven), end 10 %         79     79      57           1 (0.14 mm)
II    meshed layer, hold, end 2 %, ε ≤ 1                 72     79      69           0
II    meshed layer, hold, end 2 %, ε ≤ 2                 80     79      76           0
II    version 7: springs, sink, hold, end 2 %, ε ≤ 2     80     79      78           0
II    version 7, elements of ℓ/3 (not ℓ/2)               80     79      76           0
II    version 7, vol–dev split (not spectral)            80     80      80           0
II    version 7, bands not held (d ≥ 1/2)                80     79      78           0
II    version 7, end 0.5 %                               79     79      78           0
II    version 8: bands not held, end 0.5 %, ε ≤ 2        80     79      79           0
I     version 6: clamped, strips of 2ℓ                  78     69      53           11 (0.14–0.53 mm)
I     meshed layer, no strips                            77     71      55           3 (0.16–0.56 mm)
I     versions 7 and 8: springs, sink, no strips         77     72      55           5 (0.14–0.25 mm)
====  =================================================  =====  ======  ===========  ===================

(A band's stretch along a grip is the longest unbroken run of node columns it holds within ℓ of the
grip, :func:`fem.phasefield_crack.grip_bands`; the rows above the last of each mode were measured when
it was the x extent of all those nodes, which counts a band that touches a grip at two places as one
long stretch. Read in runs, the last mode-I row's longest stretch is 0.25 mm, not 0.42, with the same
5 plates; the version-8 mode-II rows are unchanged.)

("hold": the damage held where compression dominates, above; it acts with a split only, so not
in mode I.) Version 8's one mode-II exception is a label of the model, not of its mesh or its end;
version 7 had a second, which version 8 removes:

- Seed 1050: the four blocks round the tip are soft (ten times tougher than the stiff ones: the
  phases share one strength, so ``G_c ∝ 1/E``, :mod:`fem.materials`). The first crack forms at the
  peak in a stiff block at (0.83, 0.25) mm, and in the same load step runs to the right edge and
  back along the soft blocks' borders to the lower notch face, 4ℓ behind the tip: round the tough blocks, not through them. It
  does so on elements of ℓ/2, ℓ/3 and ℓ/4 (strength 16.2, 16.0, 15.9 MPa; version 7). An elastic
  solve outside the phase-field model agrees on where the first crack forms: the largest tensile
  principal stress averaged over a disc of 3ℓ (the critical distance of Taylor's theory of critical
  distances, ``L = E G_c / (π σ_c²) = 256ℓ / (27π) ≈ 3ℓ`` for AT2) lies at (0.84, 0.27) mm; the same
  average at the tip is 0.40 of it. With the vol–dev split (or none) the tip cracks first in this plate, and with
  vol–dev in all 80 (the table); but those splits fail the Miehe shear benchmark (peak 8 % low, a branch into the
  compressed side above the notch), which the spectral split passes. The spectral split drives
  a sheared tip with its tensile principal strain only, vol–dev with the whole shear energy, twice as
  much: in plane stress (ν = 0.33) the spectral split breaks pure shear at τ = 0.83 σ_c, vol–dev at
  0.61 σ_c (σ_c the uniaxial strength), where a brittle solid, failing by its largest principal
  stress, takes τ = σ_c.
  A first crack away from the tip is common in mode II: at the peak, the largest damage of 24 of
  these 80 plates lies farther than 2ℓ from the tip, and in all of them but 1050 the band at the end
  still joins the tip to an edge.
- Seed 1018 (version 7): the tip's crack runs down a soft block's edge and meets a second crack that
  reaches the right edge; where they meet, at a block corner in compression, the damage stayed at
  0.75 (held, inside the band) while the force fell below 2 % of the peak. On elements of ℓ/3 and ℓ/4
  the tip's crack kinks at the shear angle instead and joins the edge at d > 0.9 (strength 13.47,
  13.3, 13.25 MPa; toughness 4.60, 4.30, 4.41 MJ/m³); elements of ℓ/3 move the exception
  to other plates (the table) at four times the label time (17.6 s), so ℓ/2 stays. Version 8
  holds only the diffuse tail (d < 1/2, :mod:`fem.phasefield_split`) and ends at 0.5 % of the
  peak: the bridge breaks and the band joins the tip to the right edge (the run ends on the
  through crack). It takes both: with the bands free and the 2 % end the exception moves to
  seed 1038, whose cracks still carried 2 % of the peak with a gap of d < 0.9 between them, and with the
  0.5 % end and the bands held 1018 stays unbroken to ε = 2.

The next 120 random 8×8 plates (seeds 1080–1199, version 8) give 119 broken, 120 at tip, 119 tip to
edge, 3 along a grip (0.14–0.19 mm): seed 1119 still carries load at ε = 2 through a ring of cracks
round an island of blocks, and in 1106, 1111 and 1145 a crack that formed away from the tip (1111: the
first one, at the peak, in a stiff block 2ℓ above the bottom grip) reaches the bottom grip and turns
along it toward the right corner before the tip's crack joins it. The Label page warns of such a band
(:func:`fem.fracture.crack_path_of`). A longer crack (5/8 of the width) moves the exceptions but
not their number: 80, 80, 80, 0 on seeds 1000–1079 and 118, 120, 118, 2 on 1080–1199, and over those
80 and the 120 plates of the other grids below it joins the tip to an edge in 196 of 200, as the crack
to mid-width does.

On other grids (mode II, 30 plates each, seeds 1000–1029, ``--size``; broke, at tip, tip to edge,
along a grip; all 30 are cracked at the tip in every row; the version-7 and 2 % columns counted a
band's stretch along a grip as the x extent of its nodes there, the last column is re-measured in
unbroken runs: the same counts, 0.156 mm for both 4×4 plates (1012, 1025), 0.156 and 0.234 mm on
16×16 (1001, 1011)):

=====  ==================  ===================================  ==================
grid   version 7           version 8 with the 2 % end           version 8
=====  ==================  ===================================  ==================
4×4    30, 30, 29, 2       30, 30, 30, 2                        30, 30, 30, 2
8×16   30, 30, 29, 0       30, 30, 28, 0                        29, 30, 29, 0
16×8   30, 30, 30, 0       29, 30, 29, 0                        29, 30, 29, 0
16×16  30, 30, 27, 2       30, 30, 27, 2                        29, 30, 29, 2
=====  ==================  ===================================  ==================

Over those 120 plates and the 80 8×8 ones version 8 joins the tip to an edge in 196 of 200 (version 7:
193) and labels 3 unbroken that version 7 labelled broken: at ε = 2 they still carry 0.8 % (16×16,
seed 1008), 3.2 % (16×8, 1014: cracks round an island of blocks; version 7 reached the edge at ε = 1.14)
and between 0.5 and 2 % (8×16, 1020) of their peak, and their toughness is a lower
bound. The 0.5 % end adds the work of the tail below 2 % of the peak: it changes the toughness of
2 of the 80 8×8 plates by more than 1 % (at most 2.9 %; median 0). The bands along a grip (0.16, 0.23 mm) are shallow cracks that reach the bottom grip near the
right corner, where the shear set-up puts the plate in diagonal tension (Miehe's crack runs
there too). On 4×4 grids a stiff corner block next to a soft one cracks there, diagonally to the
grip, before the tip does in 4 of 80 plates (seeds 1000–1079, versions 7 and 8; its crack sets the strength); on
8×8 (80 plates) and 16×16 grids (30) no plate's first crack starts at a grip (damage at the peak:
``strength`` labels). The bond's compliance sets that count: a layer of 1/16 mm (four times as
compliant) leaves 1 of those 80 4×4 plates, one of 1/256 mm 6; but 1/16 mm would add as much
compliance (2/k_n = 1.1e-3 mm/MPa) as the whole cracked all-stiff plate has, so the stiffness
label would describe the bond as much as the plate, and 1/64 mm stays.

In mode I the plates whose tip crack reaches no edge are those where another flaw (a soft–stiff corner on a free side or inside) is
weaker than the 0.2 mm notch. The bond is part of the specimen: the all-stiff plate's stiffness
is 718 against 922 MPa clamped in mode I (the layers add 2/k_n = 2.8e-4 mm/MPa of compliance to
the cracked plate's 1.08e-3), 228 against 284 MPa in mode II; its strength 27.13 against 28.68 MPa (mode I,
clamped with strips) and 12.99 against 13.14 MPa (mode II). The measurements below were made
with clamped grips (solver versions up to 6) unless they say otherwise.

Mode II grips, sides, crack and end (solver version 5, clamped grips). The top grip moves in x
and is free in y (it carries no normal stress), the bottom grip is fixed, the left and right
edges are held at ``u_y = 0``, the crack runs to the middle of the plate, and a full run ends (``end_criterion``
``"through_crack"``, a failure) once a band of d > 0.9 joins the crack tip to an edge of the
plate, both within ℓ (:class:`fem.phasefield_crack.ThroughCrack`), or when the stress falls below
``end_fraction`` of its peak. The geometry is the single-edge-notched shear test of Miehe et al.
(2010) (:func:`fem.reference.miehe_sens`, whose top stays at ``u_y = 0`` as in the reference).
The crack to mid-width (version 4) makes the tip the usual origin: a 0.2 mm crack is a weak flaw
in shear (stress ℓ ahead of the tip about τ sqrt(a / 2ℓ) = 1.8 τ against 2.8 τ at mid-width;
LEFM, K_II = τ sqrt(π a)), and diagonal cracks grew from soft–stiff block corners and the grips
instead; the free sides of version 2 put the couple of the load on the grip corners (all-stiff
plate: damage 1 along both grips, 0.24 at the tip).

Measured on 24 random 8×8 designs (seeded sets of 8, seeds 0–2, soft share 0.2–0.8, full
labels, before the default phases crushed: see "Compressive failure" for what changed). Version 4
held the top at ``u_y = 0`` and ended on the stress alone: 7 of 24 stayed
above 10 % of their peak up to ε = 1, and in 10 a band ran along a grip over 0.14–0.48 mm (the
last, unstable steps tore the ligament left beside the tip's crack along the grip). Ending at
the through crack with the top held still left 4 unbroken (stress 20–98 % of the peak): the
plate cannot grow in height, so after the first crack a diagonal strut between the grips
carries the load in compression (principal stress to −660 MPa; the model has no compressive
failure). With the top free in y and the through-crack end, 23 of 24 break: 16 by the through
crack, 7 by the stress, and in 22 the band from the tip reaches an edge (in one more the stress fell below 10 % with a bridge of
d ≈ 0.85 left in the tip's crack); one (seed 1, design 6) still carries 11 % of its peak at
ε = 1, its tip's crack arrested in soft blocks, and is labelled unbroken (the label's ``reason``
says so, its toughness a lower bound). That share is larger over more designs: of the random
designs of ``tests/benchmarks/bench_campaign.py`` (mode II, seeds 0–4), 28 of 240 checkerboards
(12 %) and 43 of 240 hierarchical designs (18 %) were unbroken at ε = 1, each carrying its load
on a compressive strut (seed 1, design 6: from the region held by the left-side rollers through
the overlap of two en-echelon cracks, principal stress to −170 MPa, 15.7 % of the peak still at
ε = 2), which the model, without compressive failure, never breaks; the toughest designs of
those campaigns are such plates. No band runs along a grip: the longest stretch of any band
within ℓ of a grip is 0.14 mm, where a diagonal crack meets it at a shallow angle (0.125 mm in one
more, at most 0.11 mm in the rest). The all-stiff plate peaks at 13.1 MPa (ε = 0.052) and its
crack reaches the right edge 0.03–0.05 mm above the bottom grip at ε = 0.070. On the 8×8 grid the
tip is a corner of four blocks (the fast label gives |K| only where one phase or one horizontal
interface meets there). Version 6 kept ``max_strain`` 1 (at 0.5, version 4 joined 4 of 8). Tried
and dropped: both grips free in y (8 of 24 unbroken at ε = 1), ``max_strain`` 2 with the top
held (3 of the 4 still unbroken, one at twice its first peak), side rollers on the right edge only
(all eight of the toughest unbroken checkerboards of that benchmark break, but at half the
strength, 5.8–8.0 against 12.6–17.1 MPa, and of the 24 seeded plates 3 stay unbroken and in none
does a band of d > 0.9 join the tip to an edge), free sides with the crack to mid-width (strength
3.8–5.0 MPa, four of those eight unbroken), damage-free end tabs or layers
along the grips (the bands moved to their border), and letting compression drive damage (the
hybrid constraint ``ψ⁺ ≥ ψ⁻`` dropped, so the spectral ``ψ⁺`` fails a uniaxial strut at about
3.8× the tensile strength at ν = 0.3): of the eight toughest unbroken checkerboards of that
benchmark, three then broke (toughness 1.8–4.6 instead of 8.5–11 MJ/m³) and five still carried
28–72 % of their peak at ε = 1, while the Miehe shear test got damage 0.19 above the notch plane
2ℓ from the tip (0.11 with the constraint). The hybrid constraint does lock some of them: at
ε = 1 the toughest (still at its peak stress) has principal stresses of 192 MPa in tension beside
−1073 MPa in compression in its stiff blocks, where ``ψ⁻ > ψ⁺`` forbids damage. Two more variants,
measured on the same eight: a Drucker–Prager cone split (``ψ⁺`` the energy-norm distance of the
strain to the cone ``|ε_dev| ≤ −β tr ε``, after Navidtehrani, Betegón & Martínez-Pañeda, Theor.
Appl. Fract. Mech. 121, 103555 (2022), with β = 1 so that pure shear drives damage as the
spectral split does; a uniaxial strut then fails at 6× the tensile strength), and the
constraint lifted where the undamaged principal stress exceeds the tensile strength (40 MPa;
2.0 kN/mm² in the Miehe test). Each broke the same four (the locked one among them), and each
fails the Miehe shear test's limit above the notch plane 2ℓ from the tip: damage 0.20 with the
cone, 0.137 with the cut-off (peak 0.549 kN). A cut-off at 1.5× the strength leaves 0.130
there but breaks only two of those four, and not the same two as one at 2× (the outcome is not
monotonic in the cut-off). The other four (toughness 7.1–7.7 MJ/m³) stayed unbroken under every
variant, carrying 28–44 % of their peak at ε = 1 through the ligament between two en-echelon
diagonal cracks. Because the bottom grip is fixed and the top one free in y, the mode-II set-up
is not symmetric about the crack plane: a design and its mirror image are different specimens
(the mode-I plate is symmetric).

Compressive failure (the default phases crush at 400 MPa, 10× their tensile strength): where the
smallest principal stress of the undamaged material falls below minus a phase's compressive
strength (``Material.compressive_strength``), the whole strain energy drives the damage whatever
the split (crushing, :class:`fem.phasefield.PhaseFieldProblem`). It is the crudest form of a
strength surface with a compressive strength (Kumar, Bourdin, Francfort & Lopez-Pamies, J. Mech.
Phys. Solids 142, 104027 (2020), build one into the phase-field equation). Without a split
(mode I's default) the whole energy drives the damage anyway, so crushing changes nothing there
and a compressive strength stays out of the key of such labels: mode-I labels are those measured
above and below. In mode II it breaks the plates that the split alone let a compressed strut
hold. The Miehe tests give their material no compressive strength. Measured in mode II, both
phases given the same strength, against none (the 24 seeded plates and the 8 toughest unbroken
checkerboards above; ``tip`` counts the plates whose band of d > 0.9 joins the tip to an edge,
within ℓ):

=====================  ========  ===========  ======================================  ================
compressive strength   unbroken  tip (of 24)  strength change (of 24)                 8 toughest:
                       (of 24)                                                         broken, tip
=====================  ========  ===========  ======================================  ================
none                   1         22           —                                       0, 0
10× tensile (400 MPa)  0         21           ≤ 0.3 % in 19; −2 to −10 % in 5          8, 2
8× (Griffith, 320)     1         20           ≤ 0.3 % in 19; −2 to −18 % in 5          3 of 3 run, 0
5× (200 MPa)           0         19           ≤ 0.3 % in 7, down to −32 %              8, —
=====================  ========  ===========  ======================================  ================

10× is the default: the smallest of these ratios that broke every plate measured without a band
along a grip (at 5× one runs 0.36 mm along a grip; the longest at 10× is 0.16 mm, where a
diagonal crack meets it), within the range of brittle solids (Griffith's criterion gives 8).
With it the crack starts at the tip in all 24 plates (d = 1 there at the end). In 21 its band
reaches an edge; in the other three (seed 1, designs 5 and 6; seed 2, design 2) the tip's crack
arrests 0.27, 0.34 and 0.09 mm from the nearest edge, and a second band crosses to an edge (the
first two) or the stress falls below 10 % of its peak without one. Loaded on to an end fraction
of 2 %, the first joins the tip's band to the edge at the same strain; the other two carry 5–6 %
of their peak at ε = 1 without. That is the crack arrest that toughens composites (mode I has
it too, below), not failure at a grip. The crushing costs something: it crushes the corners of stiff blocks near
the tip before the peak (strength −10 % in one plate at 10×, −18 % at 8×, −32 % at 5×), lowers the
toughness of some plates that broke without it (seed 2, design 5: 5.12 to 1.28 MJ/m³), and the
outcome is not monotonic in the strength (seed 2, design 2 breaks at 10× and 5×, not at 8×). Of
the 8 toughest unbroken checkerboards, all break, 6 of them with a second band at an edge and the
tip's band short of one (the toughest: ≥ 10.98 to 1.06 MJ/m³). Over the random designs of
``tests/benchmarks/bench_campaign.py`` (mode II, seeds 0–4) the unbroken share fell from 12 % to
2 % of the checkerboards (4 of 239) and from 18 % to 4 % of the hierarchical designs (10 of 240);
those left still carry 10–21 % of their peak at ε = 1 (the ones looked at: through the ligament
between two en-echelon cracks) and are labelled unbroken. A phase without a compressive strength
(``compressive_strength=None``) never crushes (the behaviour before).

Over more designs the 24 plates above (and the 16 of mode I below) proved a favourable sample:
on the 80 random plates of "Grips", version 6 joined the tip to an edge in 60 (mode II) and ran a
band along a grip in 6 (mode II) and 11 (mode I). With clamped grips, the end at 10 % and ε ≤ 1,
holding the damage where compression dominates (version 7's split) made mode II worse (54 to an
edge, 9 along a grip); with the bonded grips, the 2 % end and ε ≤ 2 it removes the last band along
a grip (table in "Grips").
In the Miehe shear test it takes the largest damage above the notch plane farther than 2ℓ from the
tip from 0.114 to 0.012 (h = ℓ/2; 0.004 at h = ℓ/4, where the peak is 0.5502 kN, +3.6 %; +5.4 %
at h = ℓ/2). Tried for that tail too: AT1 (Pham et al. 2011: no damage beyond 2ℓ of a crack),
which with the Miehe material overshoots both Miehe peaks, whatever ℓ: shear 0.616–0.629 kN (+16
to +18 %), tension 0.818–0.852 kN (+17 to +22 %) for ℓ = 0.015–0.045 mm.

Mode I grips (solver version 6, ``grips="clamped"``): clamped, with a damage-free strip of 2ℓ
along each grip (``grip_strip``: nothing drives the damage in the elements whose centre lies
within it). The clamped grips force one displacement on the soft and stiff blocks of the grip rows, and their
bimaterial corners at the rigid edge are stronger flaws than the 0.2 mm notch: without the
strips (solver version 5) 10 of the 16 random designs of seeds 0–1 above (full labels) end with
a band of d > 0.9 along a grip (0.09–1.0 mm); freeing the top in x changed nothing.
With the strips none does, and the cracks start at the notch tip: at the end (stress below 10 %
of its peak) a band of d > 0.5 joins the tip to the right edge in 12 of the 16, in two the tip's
crack arrests and a second one crosses from the left edge, two still carry 12–14 % of their peak
at ε = 0.5 (labelled unbroken), and one crack (seed 0, design 6) turns up and runs 0.29 mm along
a strip's border (0.09 mm in one more). Strength moves by 0–2 % where the plate did not tear at
a grip without strips and rises by up to 18 % where it did; the all-stiff plate gains 1.3 %
(28.31 to 28.68 MPa: AT2 damages the whole plate a little, the grip corners more). Soft blocks
at the tip now toughen the plate as Gu et al. (2018) report, by bridging the crack that starts
in the stiff block ahead of them (the four blocks around the tip soft: 2.01 against 0.62 MJ/m³
with the same blocks on the grips; without strips that plate tore along the bottom grip, 0.78).
Alternatives measured before the strips. With ``PhaseFieldProblem(ends="traction")`` (uniform
end traction, the mean opening controlled; the handbook specimen) none of the first eight has a
band within ℓ of a grip and every crack starts at the notch tip, at lower strength (by 26–33 %
in five of the six, 1 % in one: the free ends let the cracked plate bend); but three of the
eight still carry 13–16 % of their peak at ε = 0.5, and in two a second band grows in from the
right edge, which the bending compresses (no split in mode I). With the spectral split and the
through-crack end added to the traction ends (the same eight plates), the second band is gone
and strength moves by 1–2 %, but no crack reaches an edge: each stops at x ≈ 0.55–0.9 mm while
the uncracked ligament turns into an elastic hinge (the free ends rotate about it), and four of
the eight still carry 12–16 % of their peak at ε = 0.5. Free ends therefore trade the grip tear
for an arrested crack. Roller grips (top and bottom held or moved in y only, free in x) tear
as clamped ones do (7 of the same 8 with a band along a grip), so the cause is the straight
rigid end over soft and stiff blocks, not the lateral constraint. In mode II the same strips
only moved the grip bands to their border (see above), so mode II has none.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from collections.abc import Callable
from typing import Any

import numpy as np

from fem.grips import GripLayer, bond_layer
from fem.lefm import LinearCrackSolution, interface_stress_intensity, solve_linear_crack
from fem.materials import Material
from fem.mesh_quad import QuadGrid
from fem.phasefield_crack import FAILURE_LEVEL, GRIP_BAND_ELLS, CrackPath, crack_path, node_damage
from fem.phasefield import PhaseFieldProblem, PhaseFieldResult, SolverOptions, solve_phasefield
from fem.plate_mesh import (as_checkerboard, block_types, check_design, element_materials, interfaces, mesh_elements,
                            plate_mesh)
from fem.plate_setup import CRACK_LENGTH, DEFAULT_ELL, MAX_ELEMENTS_PER_SIDE, MAX_STRAIN, PlateSetup, updated

__all__ = [
    "SOLVER_NAME",
    "SOLVER_VERSION",
    "FIDELITIES",
    "ENDED_AT",
    "DEFAULT_ELL",
    "MAX_ELEMENTS_PER_SIDE",
    "CRACK_LENGTH",
    "MAX_STRAIN",
    "PlateSetup",
    "updated",
    "FractureResult",
    "crack_path_of",
    "build_problem",
    "block_types",
    "check_design",
    "mesh_elements",
    "run",
    "label",
]

SOLVER_NAME = "phasefield-at2"
#: Version 10: the mesh lines are the interfaces, not every block edge (:mod:`fem.plate_mesh`), so a plate
#: drawn on a finer grid gets the same labels; labels of designs with a block edge between equal phases
#: change (6 random 4×4 plates drawn as 12×12 differed by up to 1.3 % in strength and 4.1 % in toughness in
#: mode I, 3.9 % and 8.1 % in mode II). 27 of the 200 random 8×8 plates of seeds 1000–1199 have such an edge;
#: re-measured on all 200 in mode II (``bench_failure_paths.py --designs 200``) version 10 gives the counts and
#: exceptions of version 8 below: 199 broke, 199 cracked at the tip, 198 tip to an edge, 3 along a grip.
#: Version 9: the bond of bonded grips scales with the stiffest phase (:func:`fem.grips.bond_layer`; the
#: default phases' labels are unchanged), the stiffness label is the elastic plate's, a run whose first
#: load step passes the peak fails, and the fast J domain stays off the block edges (:func:`_j_radius`:
#: over 40 random 8×8 plates G/σ² moved by −39 % to +9 %; against elements four times finer the old values
#: were off by −14 % to +64 %, the new by −6.4 % to −0.6 %). With the default phases no phase-field label
#: changes beyond 1e-6 (the stiffness), so the measurements below, made under version 8, hold for it.
SOLVER_VERSION = "10"
FIDELITIES: tuple[str, ...] = ("fast", "strength", "full")
#: Where a run ended that did not meet its end criterion, by its ``end_criterion``.
ENDED_AT = {"max_displacement": "at the largest applied strain", "max_steps": "at its load-step limit"}


def build_problem(design: Any, setup: PlateSetup = PlateSetup()) -> tuple[PhaseFieldProblem, float]:
    """Phase-field problem of a design and the crack length actually meshed (mm)."""
    cb = as_checkerboard(design)
    grid, block = plate_mesh(cb, setup)
    lam, mu, gc, crush, table = element_materials(cb, block, setup)
    return _problem(grid, lam, mu, gc, crush, table, setup), float(grid.xs[grid.crack_tip])


def _bond(table: list[Material]) -> GripLayer:
    """The bond of bonded grips: :func:`fem.grips.bond_layer` of the stiffest phase."""
    return bond_layer(max(m.E for m in table))


def _problem(grid: QuadGrid, lam: np.ndarray, mu: np.ndarray, gc: np.ndarray, crush: np.ndarray,
             table: list[Material], setup: PlateSetup) -> PhaseFieldProblem:
    return PhaseFieldProblem(grid, lam, mu, gc, setup.ell, setup.mode, split=setup.split, side_rollers=setup.mode == "II",
                             top_free_y=setup.mode == "II", ends=setup.grips, grip_strip=setup.grip_strip * setup.ell,
                             compressive_strength=None if np.all(np.isinf(crush)) else crush, grip_layer=_bond(table))


@dataclass(frozen=True, eq=False)
class FractureResult:
    """Everything a UI needs from one label.

    Attributes
    ----------
    metrics : dict
        JSON-serialisable numbers (see :func:`label`).
    strain, stress : numpy.ndarray
        Nominal σ–ε curve (dimensionless, MPa); one point for ``"fast"``.
    damage : numpy.ndarray
        Damage on the (ny+1, nx+1) node grid, row 0 at the bottom (zeros for ``"fast"``).
    x, y : numpy.ndarray
        Node coordinates of the damage grid (mm).
    crack_path : CrackPath or None
        How the plate failed (:func:`crack_path_of` on the whole damage grid); full labels only.
    """

    metrics: dict
    strain: np.ndarray
    stress: np.ndarray
    damage: np.ndarray
    x: np.ndarray
    y: np.ndarray
    raw: PhaseFieldResult | None = field(default=None, repr=False)
    crack_path: CrackPath | None = None


def crack_path_of(metrics: dict, damage: np.ndarray, x: np.ndarray, y: np.ndarray) -> CrackPath | None:
    """How the plate of a full label failed: :func:`fem.phasefield_crack.crack_path` with the label's
    notch tip (``crack_length`` at mid-height), ℓ, grip strip and the band level of its mode
    (:data:`fem.phasefield_crack.FAILURE_LEVEL`).

    Parameters
    ----------
    metrics : dict
        The label's metrics (:func:`label`).
    damage : numpy.ndarray
        Damage on the ``(len(y), len(x))`` node grid at the end of the run, row 0 at the bottom.
    x, y : numpy.ndarray
        Node coordinates (mm).

    Returns
    -------
    CrackPath or None
        None for other fidelities than full, and for a run that kept no ℓ or damage (a failed one).
    """
    damage = np.asarray(damage, float)
    if metrics.get("fidelity") != "full" or not metrics.get("ell") or damage.size == 0:
        return None
    x, y = np.asarray(x, float), np.asarray(y, float)
    mode = metrics.get("mode", "I")
    crack = metrics.get("crack_length") or CRACK_LENGTH[mode]
    return crack_path(damage, x, y, (crack, 0.5 * (y[0] + y[-1])), metrics["ell"], FAILURE_LEVEL[mode],
                      metrics.get("grip_strip") or 0.0)


def _toughness(strain: np.ndarray, stress: np.ndarray, end_fraction: float) -> tuple[float, float, bool]:
    ip = int(np.argmax(stress))
    peak = stress[ip]
    below = np.flatnonzero(stress[ip:] < end_fraction * peak)
    if below.size:
        k = ip + int(below[0])
        s0, s1 = stress[k - 1], stress[k]
        f = (s0 - end_fraction * peak) / (s0 - s1) if s0 != s1 else 1.0
        ef = strain[k - 1] + f * (strain[k] - strain[k - 1])
        es = np.append(strain[:k], ef)
        ss = np.append(stress[:k], end_fraction * peak)
        failed = True
    else:
        es, ss, ef, failed = strain, stress, strain[-1], False
    return float(np.sum(0.5 * (ss[1:] + ss[:-1]) * np.diff(es))), float(ef), failed


def run(
    design: Any,
    fidelity: str = "full",
    setup: PlateSetup | None = None,
    progress: Callable[[float, str], None] | None = None,
    **options: Any,
) -> FractureResult:
    """Label one design and keep curves and fields.

    Parameters
    ----------
    design : Checkerboard or Hierarchical
        The design (hierarchical designs are expanded to their checkerboard).
    fidelity : {"fast", "strength", "full"}
        One linear solve, AT2 run to the peak, or AT2 run to failure.
    setup : PlateSetup or None
        Plate set-up; ``None`` uses the defaults, updated by ``**options`` (PlateSetup fields).
    progress : callable, optional
        ``progress(fraction, message)`` after each load step of a phase-field run, and as the
        heartbeat of the solvers inside a step or a linear solve (see
        :func:`fem.phasefield.solve_phasefield`); what it raises (a cancelled job) propagates.

    Returns
    -------
    FractureResult
        ``metrics["status"]`` is ``"failed"`` with a ``reason`` when the solver broke down.

    Raises
    ------
    ValueError
        Bad design, fidelity or options.
    """
    if fidelity not in FIDELITIES:
        raise ValueError(f"unknown fidelity {fidelity!r}; allowed {list(FIDELITIES)}")
    setup = updated(PlateSetup() if setup is None else setup, **options)
    cb = as_checkerboard(design)
    t0 = time.perf_counter()
    grid, block = plate_mesh(cb, setup)
    lam, mu, gc, crush, table = element_materials(cb, block, setup)
    ny, nx = grid.shape
    base = {
        "solver": SOLVER_NAME,
        "solver_version": SOLVER_VERSION,
        "fidelity": fidelity,
        "design_hash": cb.content_hash(),
        "mode": setup.mode,
        "plane": setup.plane,
        "crack_length": float(grid.xs[grid.crack_tip]),
        "element_size": float(max(np.diff(grid.xs).max(), np.diff(grid.ys).max())),
        "elements": int(grid.nelem),
        "dofs": int(2 * grid.nnode),
    }
    if fidelity == "fast":
        heartbeat = None
        if progress is not None:
            message = f"one linear solve of the {nx} × {ny} element plate ({2 * grid.nnode:,} unknowns)"

            def heartbeat() -> None:
                progress(0.0, message)

            heartbeat()
        return _run_fast(cb, grid, block, lam, mu, table, setup, base, t0, heartbeat)
    pb = _problem(grid, lam, mu, gc, crush, table, setup)
    opts = SolverOptions(
        du_max=setup.du_max_strain,
        du_min=setup.du_max_strain * 1e-3,
        stop="peak" if fidelity == "strength" else "full",
        end_fraction=setup.end_fraction,
        max_displacement=setup.max_strain,
        stagger_tol=setup.stagger_tol,
        stagger_max_iter=setup.stagger_max_iter,
        max_nonconverged=setup.max_nonconverged,
        through_crack=setup.through_crack,
    )
    stiffness = _elastic_solve(grid, lam, mu, table, setup).reaction / ELASTIC_STRAIN
    res = solve_phasefield(pb, opts, progress)
    strain = res.displacement / pb.height
    stress = res.force / pb.width
    ip = int(np.argmax(stress))
    if res.status == "ok" and ip <= 1 and strain.size > 2:  # nothing before the peak: the steps missed it
        res = replace(res, status="failed", reason=(
            f"the first load step (strain {strain[1]:.3g}) already passed the peak stress: its strength and toughness "
            f"are not resolved; give a smaller du_max_strain (now {setup.du_max_strain:g}, default "
            f"{PlateSetup.du_max_strain:g})"))
    metrics = dict(base)
    metrics.update(
        ell=setup.ell,
        split=setup.split,
        grips=setup.grips,
        grip_strip=setup.grip_strip * setup.ell,
        status=res.status,
        reason=res.reason,
        stiffness=float(stiffness),
        strength=float(stress[ip]),
        strain_at_peak=float(strain[ip]),
        steps=res.steps,
        stagger_iterations=res.stagger_iterations,
        linear_solves=res.linear_solves,
        factorizations=res.factorizations,
        nonconverged_steps=res.nonconverged_steps,
        rejected_steps=res.rejected_steps,
        end_criterion=res.end_criterion,
        dissipated_energy=res.dissipated_energy,
    )
    if fidelity == "full":
        tough, ef, broke = _toughness(strain, stress, setup.end_fraction)
        metrics.update(toughness=tough, failure_strain=ef, broke=broke or res.end_criterion == "through_crack")
    else:
        metrics.update(toughness=None, failure_strain=None, broke=res.end_criterion == "peak")
    caveats = []
    if res.status == "ok" and res.end_criterion not in ("failure", "peak", "through_crack"):
        where = ENDED_AT.get(res.end_criterion, f"at {res.end_criterion}")
        rising = ip == strain.size - 1  # the stress still rose at the last step: no peak either
        caveats.append(f"ended {where} (strain {strain[-1]:.3g}) before "
                       + ("its peak: its strength is a lower bound" if fidelity != "full" else
                          "its peak: its strength and toughness are lower bounds" if rising else
                          "it broke: its toughness is a lower bound"))
    # the nominal σ–ε curve travels with the label, so that stored labels can be compared by their curves
    metrics["curve"] = {"strain": strain.tolist(), "stress": stress.tolist()}
    damage = node_damage(grid, res.damage)
    path = crack_path_of(metrics, damage, grid.xs, grid.ys)
    if path is not None:  # full labels: how the plate failed travels with the label
        metrics.update(crack_tip_to_edge=path.tip_to_edge, grip_band=path.grip_length,
                       along_grip=path.along_grip)
        if path.along_grip:
            caveats.append(f"a crack band runs {path.grip_length:.3g} mm along the {path.grip_edge} grip (more than "
                           f"{GRIP_BAND_ELLS:g}ℓ): the plate failed partly at the grip")
    if caveats and res.status == "ok":  # a failed run keeps the solver's reason
        metrics["reason"] = "; ".join(caveats)
    metrics["wall_time"] = time.perf_counter() - t0
    return FractureResult(metrics, strain, stress, damage, grid.xs, grid.ys, res, path)


def _tip_phases(grid: QuadGrid, block: np.ndarray) -> tuple[int, int] | None:
    """Blocks above and below the crack plane at the tip, or ``None`` if more than two phases meet there.

    The four elements around the tip node: if the two above are one phase and the two below are
    one phase, the tip lies inside a phase or on a straight horizontal interface.
    """
    nx = grid.shape[1]
    row, col = grid.crack_row, grid.crack_tip
    above = block[row * nx + col - 1], block[row * nx + col]
    below = block[(row - 1) * nx + col - 1], block[(row - 1) * nx + col]
    if above[0] != above[1] or below[0] != below[1]:
        return None
    return int(above[1]), int(below[1])


#: Nominal strain of the elastic solve of the undamaged plate (stiffness, fast labels); the problem is linear.
ELASTIC_STRAIN = 1e-3


def _elastic_solve(grid: QuadGrid, lam: np.ndarray, mu: np.ndarray, table: list[Material], setup: PlateSetup,
                   heartbeat: Callable[[], None] | None = None) -> LinearCrackSolution:
    """The undamaged cracked plate at a nominal strain of :data:`ELASTIC_STRAIN` (:func:`fem.lefm.solve_linear_crack`)."""
    return solve_linear_crack(grid, lam, mu, "displacement", ELASTIC_STRAIN, setup.mode,
                              side_rollers=setup.mode == "II", top_free_y=setup.mode == "II",
                              grip_layer=_bond(table) if setup.grips == "bonded" else None, heartbeat=heartbeat)


def _j_radius(grid: QuadGrid, edges: tuple[np.ndarray, np.ndarray]) -> float:
    """Half-width (mm) of the J domain: 4 tip elements, but no farther than the nearest interface
    (``edges``: :func:`fem.plate_mesh.interfaces`) that does not pass through the tip (at least 2
    elements).

    The domain integral is path-independent only where the material inside it varies along the
    crack line alone; an interface across its ring adds a term it leaves out (a random 8×8 plate's
    |K|/σ came out 1.33, 1.46, 1.52, 1.54 √mm at ℓ = 1/16 … 1/128 mm, its domain crossing the tip
    block's edge 0.05 mm ahead of the tip).
    """
    xt, yt = grid.xs[grid.crack_tip], grid.ys[grid.crack_row]
    h = max(np.diff(grid.xs)[grid.crack_tip], np.diff(grid.ys)[grid.crack_row])
    edges_x, edges_y = edges
    gaps = [abs(e - xt) for e in edges_x if abs(e - xt) > 1e-9] + [abs(e - yt) for e in edges_y if abs(e - yt) > 1e-9]
    return float(np.clip(min(gaps, default=np.inf), 2.0 * h, 4.0 * h))


def _run_fast(cb, grid, block, lam, mu, table, setup, base, t0, heartbeat=None) -> FractureResult:
    """One linear solve: stiffness, G/σ² (J-integral) and |K|/σ of the initial crack.

    ``|K|/σ`` uses the interface formula of :func:`fem.lefm.interface_stress_intensity` with the
    phases above and below the tip (a tip inside one phase: ``sqrt(G E')``), so a design and its
    mirror image about the crack plane get the same label; it is ``None`` where the tip lies on
    a vertical interface (no single-interface ``K`` there).
    """
    ny, nx = grid.shape
    metrics = dict(base)
    try:
        strain = ELASTIC_STRAIN
        sol = _elastic_solve(grid, lam, mu, table, setup, heartbeat)
        J = sol.j_integral(_j_radius(grid, interfaces(cb)))
        stiffness = sol.reaction / strain
        # per unit applied nominal stress: G scales with stress²
        g_unit = J / (stiffness * strain) ** 2
        tip = _tip_phases(grid, block)
        k_unit = None if tip is None else interface_stress_intensity(g_unit, table[tip[0]], table[tip[1]], setup.plane)
        metrics.update(
            status="ok",
            reason="",
            stiffness=float(stiffness),
            energy_release_rate_per_stress_squared=float(g_unit),
            stress_intensity_per_stress=k_unit,
            strength=None,
            toughness=None,
            linear_solves=1,
        )
    except (RuntimeError, FloatingPointError, np.linalg.LinAlgError) as exc:
        metrics.update(status="failed", reason=f"{type(exc).__name__}: {exc}")
    metrics["wall_time"] = time.perf_counter() - t0
    return FractureResult(metrics, np.array([0.0, 1e-3]), np.array([0.0, metrics.get("stiffness") or 0.0]) * 1e-3,
                          np.zeros((ny + 1, nx + 1)), grid.xs, grid.ys, None)


def label(design: Any, fidelity: str = "full", **options: Any) -> dict:
    """Picklable top-level labelling entry point for the CLI, executor and store.

    Parameters
    ----------
    design : Checkerboard or Hierarchical
        The design to label.
    fidelity : {"fast", "strength", "full"}
        See :func:`run`.
    **options
        :class:`PlateSetup` fields (e.g. ``mode="II"``, ``element_size=1/128``).

    Returns
    -------
    dict
        JSON-serialisable metrics: ``solver``, ``solver_version``, ``fidelity``,
        ``design_hash``, ``status`` ("ok"/"failed"), ``reason``, ``stiffness`` (MPa),
        ``strength`` (MPa), ``strain_at_peak``, ``toughness`` (work of fracture per unit
        volume, MJ/m³), ``failure_strain``, ``dissipated_energy`` (mJ/mm),
        ``energy_release_rate_per_stress_squared`` (G / σ², mm/MPa) and
        ``stress_intensity_per_stress`` (|K| / σ, √mm; ``None`` where more than two phases meet
        at the tip) (both fast only), how the plate failed (full only, :func:`crack_path_of`:
        ``crack_tip_to_edge``, ``grip_band`` in mm, ``along_grip``), ``ell``, ``element_size`` (mm), diagnostics and
        ``wall_time`` (s). Unavailable numbers are ``None``.
        An unexpected solver breakdown gives ``status="failed"`` rather than an exception.
    """
    try:
        return run(design, fidelity, **options).metrics
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - a batch must go on; the reason is recorded
        return {
            "solver": SOLVER_NAME,
            "solver_version": SOLVER_VERSION,
            "fidelity": fidelity,
            "status": "failed",
            "reason": f"{type(exc).__name__}: {exc}",
        }
