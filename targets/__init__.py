"""Hardware descriptions: typed, validated targets loaded from YAML presets or paths.

Imports only `isa` of the project.
"""
from targets.errors import TargetError
from targets.loader import load_target, preset_dir, preset_names, read_yaml, validate
from targets.overrides import apply_overrides, parse_override
from targets.target import FAMILIES, GpuTarget, Target

__all__ = ["TargetError", "load_target", "preset_dir", "preset_names", "read_yaml", "validate",
           "apply_overrides", "parse_override", "FAMILIES", "GpuTarget", "Target"]
