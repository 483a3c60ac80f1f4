"""Assemble a text program for a target: bind it to the target's fingerprint and verify it."""
from __future__ import annotations

import isa
from hwsim.errors import HwsimError


def assemble_for_target(text: str, source: str, target_name: str | None, overrides,
                        load_target) -> isa.Program:
    """Assemble, bind to the target (stamp or check its fingerprint) and verify against it.
    `load_target(name, overrides)` reads the target (default: the program's `.target` line)."""
    program = isa.assemble(text, source)
    target = load_target(target_name or program.target_name, overrides)
    fingerprint = target.fingerprint()
    if program.target_fingerprint not in (isa.NO_FINGERPRINT, fingerprint):
        raise HwsimError(f"{source}: .fingerprint does not match target {target.name} "
                         f"({fingerprint.hex()[:16]}...); the program was built for a different "
                         "description of the target")
    program = isa.Program(target.name, fingerprint, program.streams, program.metadata)
    isa.verify(program, target.isa_resources())
    return program
