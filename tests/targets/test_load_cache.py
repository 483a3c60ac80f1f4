"""Loaded targets are shared (cached by file text and overrides): they must be immutable, and an
override or an edited file must never be served a stale target. Expected values are read off the
preset YAML by hand (neupims: 8 systolic arrays of 128x128, fp16 at 1.0 MAC/PE/cycle; a100:
kernel_bandwidth_bytes [33554432, 90177536, 2147483648])."""
import copy
import hashlib
import json
import os
import pickle
import threading

import pytest

import targets


def _sha256_by_hand(target) -> bytes:
    canon = json.dumps(target.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).digest()


def test_a_loaded_target_cannot_be_changed_through_the_returned_object():
    t = targets.load_target("neupims")
    with pytest.raises(TypeError):
        t.units["systolic"] = t.units["systolic"]
    with pytest.raises(TypeError):
        t.units["systolic"].macs_per_pe_per_cycle["fp16"] = 2.0
    with pytest.raises(TypeError):
        t.clocks.pop("npu")
    with pytest.raises(TypeError):
        t.energy.compute.clear()
    with pytest.raises(TypeError):
        targets.load_target("a100").runtime.kernel_bandwidth_bytes.append(1)
    again = targets.load_target("neupims")
    assert set(again.units) == {"systolic", *set(again.units) - {"systolic"}}
    assert again.units["systolic"].count == 8
    assert again.units["systolic"].macs_per_pe_per_cycle == {"fp16": 1.0}
    assert "npu" in again.clocks and again.energy.compute
    assert targets.load_target("a100").runtime.kernel_bandwidth_bytes == \
        [33554432, 90177536, 2147483648]


def test_overrides_are_part_of_the_key():
    assert targets.load_target("neupims").units["systolic"].count == 8
    assert targets.load_target("neupims", ["units.systolic.count=1"]).units["systolic"].count == 1
    assert targets.load_target("neupims", ("units.systolic.count=2",)).units["systolic"].count == 2
    assert targets.load_target("neupims").units["systolic"].count == 8
    assert targets.load_target("neupims", ["units.systolic.count=1"]).units["systolic"].count == 1


def test_an_edited_file_is_read_again_even_with_the_same_size_and_mtime(tmp_path):
    text = (targets.preset_dir() / "neupims.yaml").read_text(encoding="utf-8")
    assert "    count: 8\n" in text
    path = tmp_path / "npu.yaml"
    path.write_text(text, encoding="utf-8")
    stamp = os.stat(path).st_mtime_ns
    assert targets.load_target(str(path)).units["systolic"].count == 8
    path.write_text(text.replace("    count: 8\n", "    count: 4\n", 1), encoding="utf-8")
    os.utime(path, ns=(stamp, stamp))  # same size, same mtime: only the content differs
    edited = targets.load_target(str(path))
    assert edited.units["systolic"].count == 4
    assert targets.load_target(str(path), ["units.systolic.count=3"]).units["systolic"].count == 3
    assert edited.fingerprint() != targets.load_target("neupims").fingerprint()


def test_fingerprints_match_the_canonical_json_and_copies_compute_their_own():
    base = targets.load_target("neupims")
    one = targets.load_target("neupims", ["units.systolic.count=1"])
    assert base.fingerprint() == _sha256_by_hand(base)
    assert one.fingerprint() == _sha256_by_hand(one) != base.fingerprint()
    thawed = copy.deepcopy(base)
    assert thawed == base and thawed.fingerprint() == base.fingerprint()
    thawed.units["systolic"].macs_per_pe_per_cycle["fp16"] = 2.0  # a deep copy is the caller's
    assert thawed.fingerprint() == _sha256_by_hand(thawed) != base.fingerprint()
    assert base.units["systolic"].macs_per_pe_per_cycle == {"fp16": 1.0}


def test_pickle_and_model_dump_give_plain_values():
    t = targets.load_target("a100")
    back = pickle.loads(pickle.dumps(t))
    assert back == t and back.fingerprint() == t.fingerprint()
    assert type(back.units) is dict and type(back.runtime.kernel_bandwidth_bytes) is list
    dumped = t.model_dump(mode="python")
    assert type(dumped["units"]) is dict
    assert type(dumped["runtime"]["kernel_bandwidth_bytes"]) is list


def test_threads_loading_at_once_agree():
    seen, errors = [], []

    def load():
        try:
            t = targets.load_target("flightllm-u280", ["clocks.core.freq_hz=3e8"])
            seen.append((t.clocks["core"].freq_hz, t.fingerprint()))
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=load) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and len(seen) == 8
    assert {s[0] for s in seen} == {3e8}
    assert len({s[1] for s in seen}) == 1
