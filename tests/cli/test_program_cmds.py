"""`hwsim asm` / `hwsim disasm` round trip through files, and `hwsim demo`."""
import isa
import targets
from tests.cli.sample_program import SAMPLE_ASM as DEMO_ASM


def test_asm_disasm_asm_gives_identical_bytes(hwsim, tmp_path):
    (tmp_path / "p.s").write_text(DEMO_ASM)
    first = hwsim("asm", str(tmp_path / "p.s"), "-o", str(tmp_path / "a.hwx"))
    assert first.returncode == 0, first.stderr
    assert "5 instructions (LD 2, ST 1, MV 1, VEC 1) for flightllm-u280" in first.stdout
    text = hwsim("disasm", str(tmp_path / "a.hwx"))
    assert text.returncode == 0, text.stderr
    (tmp_path / "b.s").write_text(text.stdout)
    second = hwsim("asm", str(tmp_path / "b.s"), "-o", str(tmp_path / "b.hwx"))
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "a.hwx").read_bytes() == (tmp_path / "b.hwx").read_bytes()


def test_asm_stamps_the_target_fingerprint(hwsim, tmp_path):
    (tmp_path / "p.s").write_text(DEMO_ASM)
    hwsim("asm", str(tmp_path / "p.s"), "-o", str(tmp_path / "a.hwx"),
          "--set", "clocks.core.freq_hz=300e6")
    program = isa.read(tmp_path / "a.hwx")
    tuned = targets.load_target("flightllm-u280", ["clocks.core.freq_hz=300e6"])
    assert program.target_fingerprint == tuned.fingerprint()
    # Reassembling its disassembly against the untuned preset is refused.
    (tmp_path / "b.s").write_text(isa.disassemble(program))
    out = hwsim("asm", str(tmp_path / "b.s"), "-o", str(tmp_path / "b.hwx"))
    assert out.returncode == 2 and "does not match target flightllm-u280" in out.stderr


def test_disasm_to_file(hwsim, tmp_path):
    (tmp_path / "p.s").write_text(DEMO_ASM)
    hwsim("asm", str(tmp_path / "p.s"), "-o", str(tmp_path / "a.hwx"))
    out = hwsim("disasm", str(tmp_path / "a.hwx"), "-o", str(tmp_path / "a.s"))
    assert out.returncode == 0 and out.stdout == ""
    assert isa.assemble((tmp_path / "a.s").read_text()) == isa.read(tmp_path / "a.hwx")


def test_demo_runs(hwsim):
    out = hwsim("demo")
    assert out.returncode == 0, out.stderr
    assert "llama2-7b decode" in out.stdout and "flightllm-u280" in out.stdout
    for fragment in ("tokens/s", "J/token", "roofline", "where the time goes", "matmul"):
        assert fragment in out.stdout
