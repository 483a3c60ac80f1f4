"""The public Python API of hwsim and the flows that combine compiler and simulator."""
