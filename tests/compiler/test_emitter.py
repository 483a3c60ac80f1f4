"""The emitter turns data dependencies into balanced, deadlock-free tokens."""
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.codegen.emitter import Emitter
from isa import Queue, verify

SIMPLE = {"LD": ("LOAD", dict(rows=1, row_bytes=1)), "ST": ("STORE", dict(rows=1, row_bytes=1)),
          "MM": ("MATMUL", dict(m=1, n=1, k=1, count=1)),
          "MV": ("GEMV", dict(m=1, n=1, k=1, count=1)),
          "VEC": ("VADD", dict(rows=1, cols=1, count=1)), "SYS": ("NOP", {})}


def test_hand_example():
    em = Emitter()
    ld = em.emit("LD", "LOAD", rows=1, row_bytes=1)
    ld2 = em.emit("LD", "LOAD", rows=1, row_bytes=1)
    mm = em.emit("MM", "MATMUL", deps=[ld, ld2], m=1, n=1, k=1, count=1)
    vec = em.emit("VEC", "VADD", deps=[mm], rows=1, cols=1, count=1)
    em.emit("MM", "MATMUL", deps=[ld2], m=1, n=1, k=1, count=1)  # covered by the first wait
    program = em.finalize("t", bytes(32), {})
    lds, mms = program.streams[Queue.LD], program.streams[Queue.MM]
    assert lds[0]["release"] == frozenset() and lds[1]["release"] == {Queue.MM}
    assert mms[0]["wait"] == {Queue.LD} and mms[1]["wait"] == frozenset()
    assert mms[0]["release"] == {Queue.VEC}
    assert program.streams[Queue.VEC][0]["wait"] == {Queue.MM}
    assert vec.wait == {"MM"}
    verify(program)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(SIMPLE)), st.lists(st.integers(0, 10**6),
                                                                   max_size=4)),
                min_size=1, max_size=60))
def test_random_dependency_dags_verify(spec):
    em, recs = Emitter(), []
    for queue, picks in spec:
        deps = [recs[p % len(recs)] for p in picks] if recs else []
        opcode, fields = SIMPLE[queue]
        recs.append(em.emit(queue, opcode, deps=deps, **fields))
    program = em.finalize("t", bytes(32), {})
    order = verify(program)  # balanced, deadlock-free
    done = {}
    for step, (q, i) in enumerate(order):
        done[(q.name, i)] = step
    for rec in recs:  # every dependency completes before its consumer in the issue order
        for dep in rec.deps:
            assert done[(dep.queue, dep.position)] < done[(rec.queue, rec.position)] or \
                dep.queue == rec.queue and dep.position < rec.position
