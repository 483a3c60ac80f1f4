"""Verilog models of the compute units and their cocotb testbenches (the RTL issue)."""
