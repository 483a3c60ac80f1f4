"""Request traces for the artifact runs (written to the directory given, default /tmp/neupims_art/traces).

All runs use the 512 requests of the artifact's request-traces/clb/share-gpt2-bs512-ms7B-tp4-clb-0.csv
(the lengths hwsim uses: hwsim.api.papers.neupims_requests), the first `batch` of them; only the
`ch_idx` column (the channel that holds a request's KV cache) differs by system:
- clb0-first{N}.csv: the file's own ch_idx (NeuPIMs at 512 runs the original file; NPU-only ignores it);
- clb0-first{N}-rr.csv: ch_idx = i mod 32, round robin in file order (the naive Newton baseline,
  as hwsim's naive system places them: channel_load_balancing=false);
- clb0-first256-clb.csv: the first 256 re-balanced with the artifact's trace-generator algorithm
  (trace-generator/channel_load_balancing.py distribute_requests: longest first to the channel of
  least estimated MHA latency, its estimate_mha_latency), since the file's ch_idx was balanced for
  all 512 and leaves the first 256 unbalanced (max / mean estimated channel load 1.72; re-balanced 1.03).
"""
import csv
import math
import pathlib
import sys

SRC = "/tmp/neupims_art/main/request-traces/clb/share-gpt2-bs512-ms7B-tp4-clb-0.csv"
CHANNELS = 32


def estimate_mha_latency(seq_len, E=4096, n_tp=4, page=512, banks=32, gwrite=100, gemv=184, nh=32):
    """trace-generator/channel_load_balancing.py estimate_mha_latency, its constants."""
    dk = E / nh
    chunks = math.ceil(E / n_tp / page)
    latency = chunks * gwrite + chunks * math.ceil(seq_len / banks) * gemv
    chunks = math.ceil(seq_len / page) * nh
    return latency + chunks * gwrite + chunks * math.ceil(dk / banks) * gemv


def balanced_channels(lengths):
    load, chans = [0] * CHANNELS, [0] * len(lengths)
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        c = min(range(CHANNELS), key=lambda k: load[k])
        chans[i] = c
        load[c] += estimate_mha_latency(lengths[i])
    return chans


def write(path, lengths, chans):
    with open(path, "w") as f:
        f.write("seq_len,ch_idx\n")
        f.writelines(f"{s},{c}\n" for s, c in zip(lengths, chans))


def main(out=pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/neupims_art/traces")):
    out.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(open(SRC)))
    lengths = [int(r["seq_len"]) for r in rows]
    chans = [int(r["ch_idx"]) for r in rows]
    assert len(lengths) == 512 and sum(lengths) == 153548
    for n in (512, 256):
        write(out / f"clb0-first{n}.csv", lengths[:n], chans[:n])
        write(out / f"clb0-first{n}-rr.csv", lengths[:n], [i % CHANNELS for i in range(n)])
    write(out / "clb0-first256-clb.csv", lengths[:256], balanced_channels(lengths[:256]))


if __name__ == "__main__":
    main()
