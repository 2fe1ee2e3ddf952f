"""The book tooling: execute the notebooks (``pipeline``), shape their outputs (``report``), state claims as
checks (``checks``), the committed full-scale record (``record``), the scorecard (``scorecard``) and the Sphinx
extensions (``sphinxext``, ``bibstyle``). It shapes pages, not numbers: editing it does not make a record stale.
"""
