"""Search strategies that propose designs: random search, genetic (DEAP), self-learning,
Bayesian optimisation and the inverse spinodoid solver.

Strategies see designs, evaluators' metric tables and surrogates; they do not touch the store
(campaigns do).
"""
