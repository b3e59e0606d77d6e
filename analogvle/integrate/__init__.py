"""Stage 2, the ideal model: the equations integrated in NumPy/numba.

- :mod:`.packing`: a network's constants as arrays with named fields (the one packer);
- :mod:`.kernels`: the continuous right-hand side, compiled, and its RK4;
- :mod:`.continuous`: the ``adaptive`` and ``rk4`` methods over it;
- :mod:`.gle_euler`: the discrete semantics of the public GLE code;
- :mod:`.adjoint`: the exact gradient against the local (GLE) estimate;
- :mod:`.solve`: :func:`~analogvle.integrate.solve.integrate`, a method by name.

Imports only the model stage (and :mod:`analogvle.errors`, :mod:`analogvle.registry`).
"""
