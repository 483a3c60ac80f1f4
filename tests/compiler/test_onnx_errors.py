"""Malformed or unsupported ONNX graphs: each is one line on stderr naming the node, its op type
and why, exit status 2, no traceback (in process through hwsim's main, and once through the
real command line)."""
from __future__ import annotations

import pytest

pytest.importorskip("onnx")  # the `onnx` extra (in the test extra)
from onnx import TensorProto, helper

from hwsim.cli.main import main
from tests.compiler.onnx_build import Onnx, tensor
from tests.compiler.onnx_fixtures import build

L0 = "/model/layers.0"


def _node(model, name):
    return next(n for n in model.graph.node if n.name == name)


def _init(model, name):
    return next(t for t in model.graph.initializer if t.name == name)


def missing_initializer():
    model = build("llama-genai")
    model.graph.initializer.remove(_init(model, f"{L0}/attn/q_proj.MatMul.weight"))
    return model


def unknown_op():
    model = build("llama-genai")
    _node(model, f"{L0}/mlp/act_fn/Sigmoid").op_type = "HardSwish"
    return model


def merged_decoder():
    """optimum's decoder_model_merged.onnx: an If on use_cache_branch around two subgraphs."""
    model = build("llama-genai")
    branch = helper.make_graph([], "branch", [], [tensor("x", TensorProto.FLOAT, [1])])
    node = helper.make_node("If", ["use_cache_branch"], ["optimum::if_out"],
                            name="optimum::if", then_branch=branch, else_branch=branch)
    model.graph.node.insert(0, node)
    model.graph.input.append(tensor("use_cache_branch", TensorProto.BOOL, [1]))
    return model


def cycle():
    model = build("llama-genai")
    norm = _node(model, f"{L0}/input_layernorm/LayerNorm")
    norm.input[0] = f"{L0}/mlp/down_proj/MatMul_output_0"
    return model


def dynamic_hidden():
    model = build("llama-genai")
    model.graph.initializer.remove(_init(model, "model.embed_tokens.weight"))
    model.graph.input.append(tensor("model.embed_tokens.weight", TensorProto.FLOAT,
                                    ["vocab", "hidden"]))
    return model


def wrong_rank():
    model = build("llama-genai")
    weight = _init(model, f"{L0}/attn/k_proj.MatMul.weight")
    weight.dims[:] = [1] + list(weight.dims)
    return model


def no_attention():
    b = Onnx()
    x = b.op("Gather", [b.init("embed", __import__("numpy").ones((16, 8), "float32")),
                        "input_ids"])
    b.op("MatMul", [x, b.init("head", __import__("numpy").ones((8, 16), "float32"))],
         ["logits"])
    return b.model([tensor("input_ids", TensorProto.INT64, ["b", "s"])],
                   [tensor("logits", TensorProto.FLOAT, ["b", "s", 16])])


def bad_block_size():
    model = build("llama-int4")
    node = _node(model, f"{L0}/attn/v_proj/MatMulNBits")
    for attr in node.attribute:
        if attr.name == "block_size":
            attr.i = 24
    return model


def no_lm_head():
    model = build("llama-genai")
    model.graph.node.remove(next(n for n in model.graph.node if n.output[0] == "logits"))
    model.graph.output[0].name = "/lm_head/MatMul_output_0_unused"
    return model


def runtime_head_split():
    model = build("llama-plain")
    reshape = next(n for n in model.graph.node if n.op_type == "Reshape")
    concat = _node(model, reshape.input[1].rsplit("_output_0", 1)[0])
    concat.input[3] = concat.input[1]  # head_dim taken from the run-time sequence length
    return model, reshape.name


def different_layers():
    model = build("llama-genai")
    gqa = _node(model, "/model/layers.1/attn/GroupQueryAttention")
    gqa.attribute.remove(next(a for a in gqa.attribute if a.name == "kv_num_heads"))
    gqa.attribute.append(helper.make_attribute("kv_num_heads", 1))
    return model


GRAPHS = {
    "missing initializer": (missing_initializer, f"node '{L0}/attn/q_proj/MatMul' (op MatMul): "
                            f"input '{L0}/attn/q_proj.MatMul.weight' is not produced by any "
                            "node, not a graph input and has no initializer"),
    "unknown op": (unknown_op, f"node '{L0}/mlp/act_fn/Sigmoid' (op HardSwish): unsupported op "
                   "(the ONNX front end reads decoder-only transformer graphs; "
                   "docs/compiler.md lists the ops it knows)"),
    "merged decoder": (merged_decoder, "node 'optimum::if' (op If): unsupported op (the ONNX "
                       "front end reads decoder-only transformer graphs; docs/compiler.md "
                       "lists the ops it knows); optimum's merged decoder switches between its "
                       "with- and without-past graphs in an If: give decoder_model.onnx "
                       "instead"),
    "cycle": (cycle, "(op SimplifiedLayerNormalization): lies on a cycle (a decoder graph is "
              "acyclic)"),
    "dynamic hidden size": (dynamic_hidden, "node '/model/embed_tokens/Gather' (op Gather): "
                            "hidden size is dynamic: the embedding table "
                            "'model.embed_tokens.weight' has shape ['vocab', 'hidden'] and no "
                            "initializer fixes it"),
    "wrong rank": (wrong_rank, f"node '{L0}/attn/k_proj/MatMul' (op MatMul): weight "
                   f"'{L0}/attn/k_proj.MatMul.weight' has rank 3 (shape [1, 64, 32]); a linear "
                   "layer's weight must be rank 2 (K x N)"),
    "no attention": (no_attention, "no attention found (no Softmax between two MatMuls, no "
                     "GroupQueryAttention or MultiHeadAttention): not a decoder graph"),
    "bad block size": (bad_block_size, f"node '{L0}/attn/v_proj/MatMulNBits' (op MatMulNBits): "
                       "block_size 24 must be a power of 2 >= 16 (MatMulNBits' definition)"),
    "no lm head": (no_lm_head, "no LM head (no linear layer of width 256, the vocabulary, "
                   "produces a graph output)"),
    "runtime head split": (runtime_head_split, "(op Reshape): the head split's shape [None, "
                           "None, 4, None] is computed at run time; the front end cannot "
                           "resolve head_dim"),
    "layers differ": (different_layers, "node '/model/layers.1/attn/GroupQueryAttention' (op "
                      "GroupQueryAttention): 4 query heads, 1 key/value heads of 16: k/v widths "
                      "32 and 32 do not match"),
}


def _fails(args, capsys) -> str:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hwsim: error: "), captured.err
    return lines[0]


@pytest.mark.parametrize("case", GRAPHS)
def test_bad_graph_is_one_line_exit_2(case, tmp_path, capsys):
    make, expected = GRAPHS[case]
    made = make()
    model, node_name = made if isinstance(made, tuple) else (made, None)
    path = tmp_path / "model.onnx"
    path.write_bytes(model.SerializeToString())
    for command in (["inspect", str(path)], ["simulate", str(path), "-t", "neupims"]):
        line = _fails(command, capsys)
        assert line.endswith(expected), line
        if node_name:
            assert f"node '{node_name}'" in line


def test_truncated_and_foreign_files(tmp_path, capsys):
    whole = build("llama-genai").SerializeToString()
    cases = {"truncated.onnx": whole[: len(whole) // 2], "text.onnx": b"hello, not ONNX\n",
             "config.onnx": b'{"model_type": "llama"}', "empty.onnx": b""}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        line = _fails(["inspect", str(path)], capsys)
        assert line.startswith(f"hwsim: error: {path}: not a readable ONNX model ("), line


def test_the_real_command_line_fails_cleanly(tmp_path, hwsim):
    path = tmp_path / "model.onnx"
    path.write_bytes(unknown_op().SerializeToString())
    out = tmp_path / "prog.hwx"
    result = hwsim("compile", str(path), "-t", "flightllm-u280", "-o", str(out))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "(op HardSwish): unsupported op" in result.stderr
    assert not out.exists()


def test_without_the_onnx_package_the_error_names_the_extra(tmp_path, capsys, monkeypatch):
    path = tmp_path / "model.onnx"
    path.write_bytes(build("llama-genai").SerializeToString())
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)  # import onnx -> ImportError
    line = _fails(["inspect", str(path)], capsys)
    assert line == (f"hwsim: error: {path}: reading .onnx models needs the onnx package "
                    "(pip install 'hwsim[onnx]')")
