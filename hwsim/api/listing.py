"""What is built in: the model zoo, one mapping per model."""
from __future__ import annotations


def models() -> list[dict]:
    """The zoo: name, family, layers, hidden_size, source (the HF repo it comes from, or a note
    that it was written for hwsim) and whether its config was reconstructed."""
    from compiler.frontend import load_model, zoo_entry, zoo_names
    rows = []
    for name in zoo_names():
        spec, entry = load_model(name), zoo_entry(name)
        rows.append({"name": name, "family": spec.family, "layers": spec.num_layers,
                     "hidden_size": spec.hidden_size,
                     "source": entry.get("hf_repo") or "written for hwsim (see "
                                                       "compiler/zoo/index.yaml)",
                     "reconstructed": bool(entry.get("reconstructed"))})
    return rows
