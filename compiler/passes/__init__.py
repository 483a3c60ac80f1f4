"""Compiler passes: each `run(graph, target) -> Graph`, never mutating its input."""
