"""`hwsim targets` and `hwsim targets show NAME [--json]`."""
from __future__ import annotations

from hwsim.cli.listing_cache import cached_text, package_roots
from hwsim.cli.common import add_target_overrides, dumps_json, emit, format_table, load_target, si


def register(commands) -> None:
    parser = commands.add_parser("targets", help="list the built-in targets, or show one")
    parser.set_defaults(run=run_list)
    sub = parser.add_subparsers(dest="targets_command", metavar="show")
    show = sub.add_parser("show", help="every field of one target, with units and sources")
    show.add_argument("name", help="a preset name or a target YAML path")
    fmt = show.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print one JSON object")
    fmt.add_argument("--yaml", action="store_true",
                     help="print the target as YAML that loads back as a target (a file to copy "
                          "and edit)")
    add_target_overrides(show)
    show.set_defaults(run=run_show)


def target_rows() -> list[list[str]]:
    import targets
    from targets.summary import best_peak
    rows = []
    for name in targets.preset_names():
        t = targets.load_target(name)
        macs, dtype = best_peak(t)
        mem = t.memories[t.main_memory]
        onchip = sum(b.size_bytes for b in t.buffers.values())
        rows.append([name, t.family, si(2 * macs, "OP/s") + f" {dtype}",
                     f"{mem.type} " + si(mem.bandwidth_bytes_per_s, "B/s"),
                     si(onchip, "B"), t.description])
    return rows


def list_text() -> str:
    headers = ["target", "family", "peak compute", "main memory", "on-chip", "description"]
    return format_table(headers, target_rows())


def run_list(args) -> int:
    # the table depends on the presets, the targets package and the CLI's formatting only
    emit(cached_text("targets", package_roots("targets", "hwsim.cli"), list_text))
    return 0


def run_show(args) -> int:
    from targets.summary import derived_figures
    from hwsim import api
    t = load_target(args.name, args.overrides)
    label = api.target_label(t, args.overrides)
    if args.yaml:
        emit(target_yaml(t, label))
        return 0
    if args.json:
        emit(dumps_json({"target": t.model_dump(mode="json"), "derived": derived_figures(t),
                         **({"label": label["target"], "overrides": label["overrides"]}
                            if "overrides" in label else {})}))
        return 0
    emit(_tree(t.model_dump(mode="json")))
    derived = derived_figures(t)
    if "overrides" in label:
        emit(f"label: {label['target']} ({', '.join(label['overrides'])})\n")
    emit(f"fingerprint: {derived['fingerprint']}\n")
    for unit, peaks in derived["peak_macs_per_s"].items():
        emit(f"peak {unit}: " + ", ".join(f"{d} {si(v, 'MAC/s')}" for d, v in peaks.items()) + "\n")
    return 0


def target_yaml(t, label: dict) -> str:
    """YAML that targets.load_target reads back to the same description. A target changed by
    --set gets its own name, NAME-<first 8 hex digits of its fingerprint>, so the copy is never
    mistaken for the preset; the overrides are listed in a comment."""
    import yaml
    tree = t.model_dump(mode="json")
    head = f"# hwsim target {t.name}, fingerprint {t.fingerprint().hex()[:16]}\n"
    if "overrides" in label:
        tree["name"] = f"{t.name}-{t.fingerprint().hex()[:8]}"
        head = (f"# hwsim target {t.name} with --set " + " ".join(label["overrides"]) +
                f"\n# (fingerprint {t.fingerprint().hex()[:16]})\n")
    return head + yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, width=100)


def _tree(value, indent: int = 0) -> str:
    pad = "  " * indent
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item and not _flat(item):
                out.append(f"{pad}{key}:\n{_tree(item, indent + 1)}")
            else:
                out.append(f"{pad}{key}: {_scalar(item)}\n")
        return "".join(out)
    return f"{pad}{_scalar(value)}\n"


def _flat(item) -> bool:
    values = item.values() if isinstance(item, dict) else item
    return all(not isinstance(v, (dict, list)) for v in values)


def _scalar(item) -> str:
    if isinstance(item, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in item.items()) + "}"
    if isinstance(item, list):
        return "[" + ", ".join(str(v) for v in item) + "]"
    return str(item)
