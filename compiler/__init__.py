"""Graph compiler: model front ends, graph IR, numpy reference, passes, code generation.

Arrives with the compiler issue; imports only `isa` and `targets`.
"""
