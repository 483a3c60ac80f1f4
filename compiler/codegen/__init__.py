"""Code generation: a partitioned, tiled, allocated graph -> isa.Program."""
