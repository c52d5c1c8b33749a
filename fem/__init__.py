"""Finite-element solvers (scikit-fem) that label designs: fracture of plates, homogenisation of cells."""
