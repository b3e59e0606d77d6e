"""Stage 4, netlist writing: a circuit (stage 3) as simulator text.

- :mod:`.ngspice`: :class:`~analogvle.netlist.ngspice.NgspiceWriter`, one
  ``format_<primitive>`` method per primitive (a dialect subclasses it);
- :mod:`.netlist`: :class:`~analogvle.netlist.netlist.Netlist` (the circuit, its
  text, data files, probes) and :func:`~analogvle.netlist.netlist.build_netlist`.
"""
