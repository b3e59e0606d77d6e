"""Batched gle-euler: the discrete GLE semantics with a batch dimension, for training on datasets.

``network`` (the network as data, the kernel's flat view, state, optimizers,
plateau schedule), ``elementwise`` and ``passes`` (the numba parts of a step),
``kernel`` (the step loop, :func:`~analogvle.integrate.batched.kernel.run_steps`),
``transcription`` (the same rules in plain NumPy, the tests' reference).
"""
