"""Stage 3, the physical blueprint: the network as a simulator-neutral circuit.

- :mod:`.ir`: primitives, elements, subcircuits, model libraries, analyses (data only);
- :mod:`.cells`: the realizations' filter cells (ideal, passive, ...);
- :mod:`.network`: one block of elements per term of EQUATIONS.md;
- :mod:`.nonideal`: the non-ideality switches;
- :mod:`.build`: spec → circuit and probes; :mod:`.passes`: mismatch, range check, summary;
- :mod:`.benches`: the smallest circuits, for AC and DC checks against analytic answers.

Imports the model stage only; turning a circuit into simulator text is the netlist stage's job.
"""
