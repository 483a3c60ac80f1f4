"""Flows that combine the compiler and the simulator: one step, generate, the mobile-NPU
prefill schedule and its SoC costs, the functional check, the RTL co-simulation programs."""
