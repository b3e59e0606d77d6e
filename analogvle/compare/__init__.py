"""Stage 6, comparison: a circuit trajectory against the reference, in numbers.

- :mod:`.metrics`: :func:`~analogvle.compare.metrics.compare` (nrmse, max abs, lag per signal; the verdict);
- :mod:`.learning`: the loss and the learning curve of both files.
"""
