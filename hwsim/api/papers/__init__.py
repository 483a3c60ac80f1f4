"""`hwsim papers`: the published claims of PAPERS.md, reproduced from live simulations."""
