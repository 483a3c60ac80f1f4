"""Claims of the flightllm paper (PAPERS.md). Each Claim measures itself through Runner."""
from __future__ import annotations

CLAIMS: list = []
