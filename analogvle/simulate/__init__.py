"""Stage 5, simulation: run a netlist (stage 4) in ngspice and map node voltages back to model units.

- :mod:`.shared`: libngspice in-process (PySpice); :mod:`.batch`: ``ngspice -b`` in a temporary folder;
- :mod:`.rawfile`: the raw-file reader; :mod:`.mapping`: volts and seconds → model units;
- :mod:`.run`: :func:`~analogvle.simulate.run.simulate` (spec → trajectory) and
  :func:`~analogvle.simulate.run.run_netlist`; :mod:`.ac`: AC responses of a cell.
"""
