"""cocotb testbenches of the RTL units (run inside the simulator by cocotb_tools.runner)."""
