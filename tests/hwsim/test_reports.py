"""Trace, CSV and roofline outputs through the CLI."""
import csv
import io
import json


def test_trace_and_csv_files(hwsim, tmp_path):
    trace, table = tmp_path / "t.json", tmp_path / "ops.csv"
    out = hwsim("simulate", "tiny-llama", "-t", "flightllm-u280", "--context", "8",
                "--trace", str(trace), "--csv", str(table))
    assert out.returncode == 0, out.stderr
    events = json.loads(trace.read_text())["traceEvents"]
    complete = [e for e in events if e["ph"] == "X"]
    assert complete and all(e["dur"] >= 0 for e in complete)
    assert {e["args"]["name"] for e in events if e["name"] == "thread_name"} == \
        {"LD", "ST", "MM", "MV", "VEC", "SYS"}
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert rows[0]["op"] == "embed"
    assert all(float(r["roofline_s"]) <= float(r["end_s"]) - float(r["start_s"]) + 1e-15
               for r in rows)


def test_roofline_json_and_plot(hwsim, tmp_path):
    png = tmp_path / "r.png"
    out = hwsim("roofline", "llama2-7b", "-t", "a100", "--quant", "fp16", "--json", "--plot",
                str(png))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    # LLaMA2-7B decode at fp16 on A100 is memory-bound: every weight but the embedding table
    # (one row of it is read) crosses the bus once: (6.738e9 - 32000 x 4096) x 2 B / 1.555e12
    # = 8.50 ms, plus the KV cache and activations: a little more
    assert data["bound"] == "memory"
    weights_s = (6738415616 - 32000 * 4096) * 2 / 1.555e12
    assert weights_s <= data["roofline_s"] <= weights_s * 1.02
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_simulate_a_compiled_hwx(hwsim, tmp_path):
    prog = tmp_path / "p.hwx"
    assert hwsim("compile", "tiny-llama", "-t", "a100", "-o", str(prog)).returncode == 0
    out = hwsim("simulate", str(prog), "-t", "a100", "--json")
    assert out.returncode == 0, out.stderr
    direct = hwsim("simulate", "tiny-llama", "-t", "a100", "--json")
    a, b = json.loads(out.stdout), json.loads(direct.stdout)
    assert a["seconds"] == b["seconds"] and a["energy_j"] == b["energy_j"]
    wrong = hwsim("simulate", str(prog), "-t", "v100s")
    assert wrong.returncode == 2 and "different description" in wrong.stderr
