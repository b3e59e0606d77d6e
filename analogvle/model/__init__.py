"""Stage 1, the model: what the user describes (the typed Spec and its TOML form), the
activation functions, the equations' coefficients, inputs and trajectories.

Imports only :mod:`analogvle.errors` and :mod:`analogvle.registry`.
"""
