"""Stage 7, reporting: what a person reads — metrics.json, report.md and plots.

- :mod:`.write`: a comparison's report folder, installed in one step;
- :mod:`.markdown`, :mod:`.metrics_file`, :mod:`.plots`: its parts;
- :mod:`.learning_plot`, :mod:`.bode`, :mod:`.alignment`, :mod:`.sweep`: the other pictures.
"""
