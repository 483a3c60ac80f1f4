"""Render docs/isa.md from the tables (`python -m isa.docgen > docs/isa.md`); a test checks it."""
from isa.enums import Dtype, Queue, SparseMode
from isa.fields import WORD_BITS
from isa.formats import DRAM_BUFFER_ID, FORMATS
from isa.opcodes import OPCODES


def render() -> str:
    out = [
        "# hwsim ISA reference",
        "",
        "Generated from `isa/formats.py` and `isa/opcodes.py` by `python -m isa.docgen`; "
        "do not edit by hand (a test fails when this file is stale).",
        "",
        f"Every instruction is one {WORD_BITS}-bit word, stored little-endian. Each queue issues "
        "in order; an instruction first takes one token from every queue in its `wait` set, and "
        "gives one token to every queue in its `release` set when it completes (VTA-style "
        "dependency tokens). Within a queue, each instruction starts after the previous one ends, "
        "whichever unit (`unit` field) runs it. Fields not given in assembly are zero.",
        "",
        "## Queues",
        "",
        "| id | queue |",
        "|---|---|",
        *(f"| {q.value} | {q.name} |" for q in Queue),
        "",
        "## Opcodes",
        "",
        "| opcode | hex | queue | format | operation |",
        "|---|---|---|---|---|",
        *(f"| {op.name} | 0x{op.value:02x} | {s.queue.name} | {s.format.name} | {s.doc} |"
          for op, s in OPCODES.items()),
        "",
    ]
    for fmt in FORMATS:
        out += [f"## Format `{fmt.name}`", "", fmt.doc, "",
                "| bits | field | kind | meaning |", "|---|---|---|---|"]
        for f in fmt.fields:
            kind = f.enum.__name__ if f.enum else f.kind
            out.append(f"| [{f.hi}:{f.lo}] | `{f.name}` | {kind} | {f.doc} |")
        out.append("")
    out += ["## Enumerations", "", "| Dtype | value | bits |", "|---|---|---|",
            *(f"| {d.label} | {d.value} | {d.bits} |" for d in Dtype), "",
            "| SparseMode | value |", "|---|---|",
            *(f"| {m.name.lower()} | {m.value} |" for m in SparseMode), "",
            f"Buffer id {DRAM_BUFFER_ID} in `wgt_buf` names off-chip memory (PIM_GEMV only); other "
            "buffer ids index the target's `buffers` in the order its YAML lists them.", ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
