"""Models: networks, their initialisation, forward pass, empirical NTK and training.

The slide model (``networks``, trained on noisy labels in ``noisy`` and ``noisy_sweep``), fully connected nets
(``deepnets``, ``jacot``, ``mlp``, ``trained_nets``), the CNN and its CNTK (``cntk``), the GNN and its GNTK
(``gntk``), and the empirical NTK of any JAX network (``evolution``). Imports ``ntklib.theory`` and the
foundation, never the experiments, the data layer or the book tooling.
"""
