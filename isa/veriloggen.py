"""Render the Verilog header the RTL core includes (`rtl_models/isa_fields.vh`) from the tables.

`python -m isa.veriloggen > rtl_models/isa_fields.vh`; a test fails when the file is stale.
"""
from isa.enums import Dtype, Queue, SparseMode
from isa.fields import WORD_BITS
from isa.formats import DRAM_BUFFER_ID, FORMATS, HEADER
from isa.opcodes import OPCODES


def render() -> str:
    out = ["// Generated from isa/formats.py and isa/opcodes.py by `python -m isa.veriloggen`.",
           "// Do not edit: a test fails when this file is stale.",
           "`ifndef HWSIM_ISA_FIELDS_VH", "`define HWSIM_ISA_FIELDS_VH", "",
           f"localparam integer ISA_WORD_BITS = {WORD_BITS};",
           f"localparam integer ISA_DRAM_BUFFER_ID = {DRAM_BUFFER_ID};", ""]
    out += [f"localparam integer QUEUE_{q.name} = {q.value};" for q in Queue] + [""]
    out += [f"localparam [5:0] OP_{op.name} = 6'h{op.value:02x};" for op in OPCODES] + [""]
    out += [f"localparam [3:0] DTYPE_{d.name} = 4'd{d.value};" for d in Dtype] + [""]
    out += [f"localparam [1:0] SPARSE_{m.name} = 2'd{m.value};" for m in SparseMode] + [""]
    header_names = {spec[0] for spec in HEADER}
    for fmt in FORMATS:
        out.append(f"// format {fmt.name}: {fmt.doc}")
        for f in fmt.fields:
            if fmt is not FORMATS[0] and f.name in header_names:
                continue
            prefix = "HDR" if f.name in header_names else fmt.name.upper()
            out.append(f"localparam integer {prefix}_{f.name.upper()}_LO = {f.lo};")
            out.append(f"localparam integer {prefix}_{f.name.upper()}_W = {f.width};")
        out.append("")
    out.append("`endif")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
