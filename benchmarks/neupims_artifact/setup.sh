#!/bin/bash
# Export the three branches of the NeuPIMs artifact into $ART (default /tmp/neupims_art), add
# booksim and robin_hood.h, apply patches/CMakeLists.txt.patch (build files only) and build the
# Simulator of each branch with make -j2 (NO_BUILD=1: export and patch only). See README.md. Needs the mirrors that the `fetch` tool
# brings (casys-kaist/NeuPIMs, PSAL-POSTECH/booksim, martinus/robin-hood-hashing) and
#   apt-get install -y libboost-program-options-dev libboost-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
set -e
ART=${ART:-/tmp/neupims_art}
HERE=$(cd "$(dirname "$0")" && pwd)
NEUPIMS=/work/.mirror/casys-kaist+NeuPIMs/repo
BOOKSIM=/work/.mirror/PSAL-POSTECH+booksim/repo
ROBIN=/work/.mirror/martinus+robin-hood-hashing/repo
BOOKSIM_COMMIT=f0245986e9a671fc72cb76f62b366a947f33d655   # the gitlink extern/booksim on main and npu+pim
mkdir -p "$ART/deps/include"
git --git-dir=$ROBIN show 3.11.5:src/include/robin_hood.h > "$ART/deps/include/robin_hood.h"
for b in main npu+pim npu-only; do
  rm -rf "$ART/$b"; mkdir -p "$ART/$b"
  # trace-generator/share-gpt-prev/stats.tsv is missing from the mirror (invalid object): left out
  git --git-dir=$NEUPIMS archive $b -- . ':(exclude)trace-generator' | tar -x -C "$ART/$b"
  if [ "$b" != npu-only ]; then   # npu-only vendors booksim's sources
    rm -rf "$ART/$b/extern/booksim"; mkdir -p "$ART/$b/extern/booksim"
    git --git-dir=$BOOKSIM archive $BOOKSIM_COMMIT | tar -x -C "$ART/$b/extern/booksim"
  fi
  (cd "$ART/$b" && patch -p1 < "$HERE/patches/CMakeLists.txt.patch")
  [ -n "$NO_BUILD" ] && continue   # NO_BUILD=1: export and patch only
  mkdir -p "$ART/$b/build"
  start=$(date +%s)
  (cd "$ART/$b/build" && cmake -DNEUPIMS_DEPS_INCLUDE="$ART/deps/include" .. > "$ART/cmake_$b.log" 2>&1 && make -j2 Simulator > "$ART/make_$b.log" 2>&1)
  echo "$b built in $(( $(date +%s) - start )) s"
done
python3 "$HERE/make_traces.py" "$ART/traces"
