"""Stage 8, workflows: the stages chained into the jobs a user runs.

- :mod:`.run`: reference, netlist, simulation, comparison and report of one spec (``run``, ``demo``);
- :mod:`.sweep`: one spec over seeds × parameter values, in a process pool or on Dask;
- :mod:`.gradients`: the exact adjoint against the local estimate, as a file and a plot.
"""
