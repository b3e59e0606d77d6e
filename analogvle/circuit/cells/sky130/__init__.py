"""The ``sky130`` realization: the network on SkyWater 130 nm transistors (sky130_fd_pr), VDD 1.8 V.

- :mod:`.pdk`: where the foundry models are (by package path) and the process constants;
- :mod:`.library`: the cells, one subcircuit per role (tanh synapse, linear transconductor,
  membrane, error neuron, φ′ bump, Gilbert multipliers, input cell, weight capacitor);
- :mod:`.calibration`: the model-unit mapping measured by ``analogvle characterize``;
- :mod:`.network`: spec → circuit (the forward path);
- :mod:`.benches`: each cell alone, for the characterization.

Unlike the ideal and passive realizations this one elaborates the whole
network itself (trait ``transistor`` in the registry): a current-mode
transistor network does not decompose into the shared summing-node
elaboration plus a filter cell.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from analogvle.circuit.build import CircuitBuild
from analogvle.circuit.cells.sky130 import network as network_module
from analogvle.circuit.cells.sky130.calibration import load_calibration
from analogvle.circuit.cells.sky130.hardware import account
from analogvle.circuit.cells.sky130.learning import S_E
from analogvle.circuit.cells.sky130.mismatch import mismatch_alters
from analogvle.circuit.cells.sky130.network import build_network
from analogvle.circuit.cells.sky130.pdk import INIT, OPTIONS, PDK_VERSION, model_library, pdk_root
from analogvle.circuit.cells.sky130.scope import check_spec
from analogvle.circuit.ir import Circuit, Tran
from analogvle.circuit.passes import format_summary, get_summary
from analogvle.circuit.probes import probe_nodes
from analogvle.errors import NetlistError
from analogvle.formatting import format_number
from analogvle.integrate.solve import integrate
from analogvle.model.network import rest_potentials
from analogvle.model.spec import Spec

#: largest ngspice step, model time units (the forward LagNet numbers were measured with it)
MAX_STEP = 0.05


class Sky130Cells:
    name = "sky130"

    def check(self, spec: Spec) -> None:
        """NetlistError / ConfigurationError (exit 2) now if ``spec`` cannot be built: before any long stage runs."""
        check_spec(spec)
        pdk_root()

    def filter_cell(self, b, **kwargs) -> None:
        raise NetlistError("the sky130 realization builds whole networks (build_circuit), not single filter cells")

    def build_circuit(self, spec: Spec, corner: str = "tt", trims: dict[str, float] | None = None,
                      calibrating: bool = False) -> CircuitBuild:
        """Elaborate ``spec`` on transistors at the characterization's mapping.

        ``trims``: tag → trim current in model units (I0): "l1_n0" nulls that neuron's ŭ at x = 0,
        "p_l1_n0" / "eo_l1_n1" an error neuron's p / error-cell output, "m_l1_n0_j0" a learning
        multiplier's offset, "g_l2_n0" a fixed-weight neuron's node gain (its synapses and bias sized up by
        1/g) (measured by :mod:`analogvle.simulate.trim`; a chip's start-up trim DACs).
        ``calibrating``: the calibration's circuit (learn_after gates off, dump currents probed).
        With ``[circuit] pdk_mismatch`` every FET gets its die's delvto (:mod:`.mismatch`, seed ``circuit.seed``).
        """
        cal = load_calibration()
        t = cal.T_unit_s / spec.circuit.bias_scale
        circuit = Circuit(title=f"analogvle netlist: {spec.name} (sky130 realization, corner {corner})",
                          libraries=[model_library(corner)], init=dict(INIT))
        check_spec(spec)
        target = target_samples(spec)
        if calibrating and target is not None:  # the calibration's target: the student's own output at rest (x = 0),
            # so that every ideal error is 0 and the trims null offsets only (a teacher with biases is not 0 at x = 0)
            rest = rest_potentials(spec.network)[-1]
            target = (np.broadcast_to(rest, np.shape(target[0])).copy(), target[1])
        probes, counts, cells = build_network(spec, cal, circuit, target, trims or {}, calibrating)
        circuit.subckts = list(cells.subckts.values())
        circuit.options = {**OPTIONS, "method": "gear"}
        circuit.saves = sorted(probe_nodes(probes)) + sorted({v for p in probes.values() if p.quantity == "i"
                                                              for v in p.vectors()} | {"i(vdd)"})
        circuit.analyses = [Tran(step=spec.time.save_dt * t, stop=spec.time.duration * t,
                                 max_step=MAX_STEP * t, uic=False)]
        alters: dict[str, float] = {}
        if spec.circuit.pdk_mismatch:
            circuit.control, alters = mismatch_alters(circuit, spec.circuit.seed)
        hardware = hardware_summary(cal, counts, circuit, spec.circuit.bias_scale)
        # design shares at the characterized bias: the input and reference currents were built scaled
        scale = spec.circuit.bias_scale
        supply = {k: v / scale if k in ("x_in", "bias_ref", "bias_learn") else v for k, v in cells.supply.items()}
        hardware.update(account(circuit, supply, *neurons_and_synapses(spec)))
        hardware["offset_trims_units"] = dict(trims or {})
        hardware["trim"] = spec.circuit.trim
        hardware["plastic_synapses"] = sum(layer.size * layer.fan_in for layer in spec.network.layers if layer.plastic)
        if alters:
            z = np.array(list(alters.values()))
            hardware["pdk_mismatch"] = {"seed": spec.circuit.seed, "devices": len(z),
                                        "delvto_rms_V": float(np.sqrt(np.mean(z ** 2))),
                                        "delvto_max_abs_V": float(np.max(np.abs(z)))}
        notes = ["transistor-level: every cell is its sky130 devices (tt, 27 C)"]
        if alters:
            notes.append(f"PDK mismatch: die {spec.circuit.seed} (delvto of {len(alters)} FETs drawn with the PDK's sigma)")
        if spec.network.errors != "none" and any(layer.gamma for layer in spec.network.layers):
            notes.append("nudging gamma*e is not built (|gamma| <= 0.01 is left out)")
        net = spec.network
        if any(network_module.Elaboration.filtered(net, l, i) for l, layer in enumerate(net.layers, 1)
               for i in range(layer.size)):
            notes.append(f"error neurons built for tau_r - {network_module.ERROR_LAG:g} (the error path's measured parasitic lag)")
        if spec.network.plastic:
            notes.append(f"errors at V = VCM + e*VU/{S_E:g}; plastic weights (and learned biases) on MIM capacitors, learning multipliers "
                         "on their own bias line, learn_after as transmission gates")
        summary = get_summary(circuit)
        summary.update(spec=spec.name, realization="sky130",
                       scales={"time_scale": t, "v_scale": cal.VU, "g_unit": cal.G, "c_unit": cal.C_membrane},
                       network=" -> ".join(map(str, (net.inputs,) + net.sizes)), errors=net.errors,
                       target=("none" if net.errors == "none" else
                               "ideal teacher, sampled" if spec.teacher is not None else "sampled"), b_minimum=0,
                       non_idealities=notes,
                       hardware=hardware)
        circuit.header = [
            *format_summary(summary),
            *mapping_lines(cal),
            "initial conditions: the DC operating point at t = 0 (x(0) = 0 for zero-phase sines)",
            ("trims measured by analogvle simulate/run (offsets: bias currents in model units nulling each uh at "
             "x = 0; g_*: a node's DC gain, its synapses and bias sized up by 1/g): "
             f"{', '.join(f'{k} {v:+.4f}' for k, v in trims.items())}" if trims else
             "no offset trims (analogvle simulate/run add per-neuron trims measured at x = 0)"),
            "run: ngspice -b -r out.raw THIS_FILE.cir (with the .spiceinit beside it)",
        ]
        if spec.circuit.bias_scale != 1.0:
            circuit.header.insert(len(circuit.header) - 1, f"bias_scale {spec.circuit.bias_scale:g}: every bias and "
                                  f"input current x {spec.circuit.bias_scale:g}, 1 model time unit = {t * 1e6:.4g} us")
        if alters:
            circuit.header.insert(len(circuit.header) - 1, f"PDK mismatch die {spec.circuit.seed}: the .control block "
                                  "alters every FET's delvto (sigma from the PDK; analogvle/circuit/cells/sky130/mismatch.py)")
        return CircuitBuild(circuit, probes, summary, t)


def target_samples(spec: Spec) -> tuple[np.ndarray, float] | None:
    """(target samples, dt) for a spec with errors: the ideal teacher's output every dt, or the spec's data."""
    if spec.network.errors == "none":
        return None
    if spec.target is not None:
        return spec.target.data, spec.time.dt
    teacher = replace(spec.teacher, errors="none")
    ideal = replace(spec, network=teacher, teacher=None, target=None,
                    time=replace(spec.time, save_dt=spec.time.dt, learn_after=0.0),
                    compare=replace(spec.compare, signals=["layer*/r"]))
    traj = integrate(ideal, "adaptive")
    return traj[f"layer{len(teacher.layers)}/r"], spec.time.dt


def neurons_and_synapses(spec: Spec) -> tuple[int, int]:
    """Neurons, and synapses (nonzero forward weights, plus the error path's ε terms when errors are on)."""
    net = spec.network
    forward = sum(int(np.count_nonzero(layer.weights)) for layer in net.layers)
    errors = 0 if net.errors == "none" else forward - int(np.count_nonzero(net.layers[0].weights)) + net.sizes[-1]
    return sum(net.sizes), forward + errors


def mapping_lines(cal) -> list[str]:
    """The model-unit mapping, for the netlist header."""
    f = format_number
    return [
        f"sky130 PDK {PDK_VERSION} (continuous models); mapping measured by analogvle characterize ({cal.source}):",
        (f"  voltage: V = VCM + q*VU, VCM = {f(cal.VCM)} V, VU = 2UT/kappa = {cal.VU * 1e3:.4f} mV per unit "
        f"(kappa = {cal.kappa:.4f} of the nfet pair)"),
        f"  current: I = q*I0, I0 = {cal.I0 * 1e9:.4f} nA; load G = I0/VU = {cal.G * 1e9:.3f} nS",
        (f"  time: 1 model time unit = {cal.T_unit_s * 1e6:.0f} us: membrane C = {cal.C_membrane * 1e12:.3f} pF per "
        f"unit of tau_m, error C = {cal.C_error * 1e12:.3f} pF at tau_r = {cal.C_error_tau_r:g}"),
        (f"  weights (layer 1): W = {cal.Wmax:.4f} tanh({cal.kappa_w:.4f} (Vw - {cal.VWCM} V - "
        f"{cal.w_offset_V * 1e3:.3f} mV)/2UT) (and every plastic weight or learned bias); fixed layers >= 2: synapse "
         "tail from the measured amplitude table"),
        f"  trims: synapse reference {cal.VREF_SYN:.5f} V, lin_gm references {cal.VREF_GP:.5f} / {cal.VREF_GN:.5f} V",
    ]


def hardware_summary(cal, counts: dict[str, int], circuit: Circuit, bias_scale: float = 1.0) -> dict:
    """The mapping and the device counts, for metrics.json."""
    devices = {"nfet": 0, "pfet": 0, "mim": 0}
    per_sub = {s.name: s for s in circuit.subckts}

    def count(name: str, times: int) -> None:
        for el in per_sub[name].elements():
            model = el.params.get("subckt", "") if el.primitive.name == "instance" else ""
            if model.endswith("nfet_01v8"):
                devices["nfet"] += times
            elif model.endswith("pfet_01v8"):
                devices["pfet"] += times
            elif model.endswith("cap_mim_m3_1"):
                devices["mim"] += times
            elif model in per_sub:
                count(model, times)

    for el in circuit.elements():
        if el.primitive.name == "instance" and el.params["subckt"] in per_sub and el in circuit.items:
            count(el.params["subckt"], 1)
    keys = ("VCM", "VU", "kappa", "I0", "G", "T_unit_s", "C_membrane", "C_error", "Wmax", "kappa_w", "w_offset_V",
            "VREF_SYN", "VREF_GP", "VREF_GN", "IX0", "XM")
    mapping = {k: cal.values[k] for k in keys}
    mapping.update(T_unit_s=cal.T_unit_s / bias_scale, I0=cal.I0 * bias_scale, bias_scale=bias_scale)
    return {"pdk": f"sky130 {PDK_VERSION}", "corner": "tt", "mapping": mapping,
            "mapping_source": cal.source, "cell_instances": dict(sorted(counts.items())), "devices": devices}
