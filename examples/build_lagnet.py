"""LagNet of the GLE paper built in Python (no TOML), run as ideal model and as circuit, and compared.

    python examples/build_lagnet.py [DURATION]

Prints the worst nrmse of the circuit against the adaptive reference and what W1 learned.
"""

import sys

import analogvle as av

duration = float(sys.argv[1]) if len(sys.argv) > 1 else 100.0
hidden = {"tau_m": 1.0, "tau_r": [1.0, 0.1], "phi": "tanh"}  # one Latent-Equilibrium, one lagging neuron
teacher = av.NetworkSpec(inputs=1, errors="none", layers=(
    av.LayerSpec(size=2, weights=[[-0.5], [1.0]], **hidden),
    av.LayerSpec(size=2, weights=[[0.5, 0.0], [0.0, 1.0]], **hidden),
    av.LayerSpec(size=1, tau_m=1.0, phi="linear", weights=[[0.5, 1.0]]),
))
student = av.NetworkSpec(inputs=1, errors="prospective", beta=1.0, layers=(
    av.LayerSpec(size=2, weights=[[0.5], [-0.5]], gamma=1e-3, plastic=True, eta=0.02, learn_bias=False, **hidden),
    av.LayerSpec(size=2, weights=[[0.5, 0.0], [0.0, 1.0]], gamma=1e-3, **hidden),
    av.LayerSpec(size=1, tau_m=1.0, phi="linear", weights=[[0.5, 1.0]]),
))
spec = av.Spec(
    name="lagnet_python",
    time=av.TimeSpec(dt=0.01, duration=duration, save_dt=0.1, learn_after=0.2 * duration),
    input=av.InputSpec(kind="sines", omegas=[0.49, 1.07, 1.98]),
    network=student,
    teacher=teacher,
)

ref = av.integrate(spec, method="adaptive")  # the ideal model
net = av.build_netlist(spec, realization="ideal")  # the circuit, as ngspice text
circ = av.simulate(spec, backend="shared", netlist=net)  # ngspice, mapped back to model units
cmp = av.compare(ref, circ, signals=["layer*/r", "layer*/e", "layer1/W"], tolerance=1e-3)

print(f"{net.summary['elements']} elements, {net.summary['nodes']} nodes")
print(f"{'PASS' if cmp.passed else 'FAIL'}: worst nrmse {cmp.worst:.2e} ({cmp.worst_signal})")
print(f"W1 {ref['layer1/W'][0].ravel()} -> {ref['layer1/W'][-1].ravel()} (reference), "
      f"{circ['layer1/W'][-1].ravel()} (circuit); the teacher's is {teacher.layers[0].weights.ravel()}")
