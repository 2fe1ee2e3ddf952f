"""Experiments: the benchmark drivers behind the book's tables (the UCI benchmark of Arora et al. 2020, graph
classification with the GNTK). They combine data, theory and models, take their cache folder and progress
callback as arguments, and never import the book tooling.
"""
