#!/usr/bin/python3
"""Writes the corpus of bad models in test/corpus/bad and expected.txt.

Run with Debian's python3-onnx: /usr/bin/python3 test/corpus/make_corpus.py
Each model is wrong in one way; test/corpus/lit.local.cfg makes each one a
lit test that nncc must reject with exit status 1, a one-line diagnostic
naming the file (and what expected.txt says), and no output file.
"""
import os

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = os.path.join(HERE, "bad")
expected = {}


def good_graph(nodes=None, inputs=None, outputs=None, initializers=None):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 3])
    nodes = nodes if nodes is not None else [helper.make_node("Tanh", ["x"], ["y"], name="act")]
    return helper.make_graph(nodes, "g", inputs if inputs is not None else [x],
                             outputs if outputs is not None else [y], initializers or [])


def model(graph, opset=14, ir=8, extra_opsets=()):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]
                          + list(extra_opsets))
    m.ir_version = ir
    return m


def write(name, data, expect):
    with open(os.path.join(BAD, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.SerializeToString())
    expected[name] = expect


def tensor(name, dims, raw=None, floats=None, dtype=TensorProto.FLOAT):
    t = TensorProto()
    t.name = name
    t.data_type = dtype
    t.dims.extend(dims)
    if raw is not None:
        t.raw_data = raw
    if floats is not None:
        t.float_data.extend(floats)
    return t


def main():
    os.makedirs(BAD, exist_ok=True)
    good = model(good_graph()).SerializeToString()
    write("empty.onnx", b"", "the file is empty")
    write("garbage.onnx", b"\xff\xfe this is not a protobuf \x00\x01\x02", "not a valid ONNX model")
    write("truncated.onnx", good[: len(good) // 2], "not a valid ONNX model")
    write("truncated_tail.onnx", good[:-3], "not a valid ONNX model")
    write("no_graph.onnx", helper.make_model(helper.make_graph([], "g", [], []))
          .SerializeToString()[:0] + b"\x08\x08", "the model has no graph")
    write("unknown_op.onnx", model(good_graph([helper.make_node("Frobnicate", ["x"], ["y"], name="f")])),
          "Frobnicate")
    write("opset_too_new.onnx", model(good_graph(), opset=99), "unsupported opset version 99")
    # Older opsets are upgraded by ONNX's version converter; this one it
    # cannot upgrade: opset 6's broadcasting Add needs its operands' shapes.
    write("opset_not_upgradable.onnx", model(good_graph(
        [helper.make_node("Reshape", ["b", "s"], ["r"], name="reshape"),
         helper.make_node("Add", ["x", "r"], ["y"], name="add", broadcast=1)],
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 3]),
                helper.make_tensor_value_info("b", TensorProto.FLOAT, [3]),
                helper.make_tensor_value_info("s", TensorProto.INT64, [1])]),
        opset=6, ir=3), "cannot upgrade the model from opset 6 to 7")
    # Opset 6's Gemm shape inference reads dimension 1 of B without checking
    # its rank: the converter's shape inference must not take nncc down.
    write("opset_gemm_rank.onnx", model(good_graph(
        [helper.make_node("Gemm", ["x", "w", "c"], ["y"], name="fc")],
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 3]),
                helper.make_tensor_value_info("w", TensorProto.FLOAT, [9]),
                helper.make_tensor_value_info("c", TensorProto.FLOAT, [4, 3])],
        initializers=[tensor("w", [9], floats=[1.0] * 9)]), opset=6, ir=3),
        "ONNX's shape inference or version converter crashed on the model")
    write("ir_version.onnx", model(good_graph(), ir=2), "IR version")
    write("no_outputs.onnx", model(good_graph(outputs=[])), "the graph has no outputs")
    write("undefined_input.onnx", model(good_graph([helper.make_node("Tanh", ["ghost"], ["y"], name="t")])),
          "ghost")
    write("cycle.onnx", model(good_graph([helper.make_node("Add", ["x", "b"], ["a"], name="n1"),
                                          helper.make_node("Tanh", ["a"], ["b"], name="n2"),
                                          helper.make_node("Identity", ["a"], ["y"], name="n3")])),
          "topologically sorted")
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 3])
    write("duplicate_output.onnx", model(good_graph(outputs=[y, y])), "error")
    write("duplicate_definition.onnx", model(good_graph([helper.make_node("Tanh", ["x"], ["y"], name="a"),
                                                         helper.make_node("Relu", ["x"], ["y"], name="b")])),
          "y")
    write("negative_dim.onnx", model(good_graph(initializers=[tensor("w", [-2, 3], raw=b"abcd")])),
          "error")
    write("huge_dims.onnx", model(good_graph(initializers=[tensor("w", [1 << 20, 1 << 20], raw=b"abcd")])),
          "too many elements")
    write("overflowing_dims.onnx",
          model(good_graph(initializers=[tensor("w", [3037000500, 3037000500, 4], raw=b"abcd")])),
          "error")
    write("short_raw_data.onnx",
          model(good_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                           initializers=[tensor("w", [4, 3], raw=b"\x00" * 20)])),
          "bytes of raw_data")
    write("short_float_data.onnx",
          model(good_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                           initializers=[tensor("w", [4, 3], floats=[1.0] * 5)])),
          "values, but its shape")
    write("matmul_dims.onnx",
          model(good_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
                           initializers=[tensor("w", [2, 3], floats=[1.0] * 6)])),
          "node 'mm': MatMul inner dimensions differ")
    write("gemm_dims.onnx",
          model(good_graph([helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1)],
                           initializers=[tensor("w", [3, 2], floats=[1.0] * 6)])),
          "node 'fc': Gemm inner dimensions differ")
    write("gemm_bias.onnx",
          model(good_graph([helper.make_node("Gemm", ["x", "w", "c"], ["y"], name="fc")],
                           initializers=[tensor("w", [3, 3], floats=[1.0] * 9),
                                         tensor("c", [2], floats=[1.0] * 2)])),
          "node 'fc': Gemm C of shape [2] does not broadcast")
    write("broadcast.onnx",
          model(good_graph([helper.make_node("Mul", ["x", "w"], ["y"], name="mul")],
                           initializers=[tensor("w", [2], floats=[1.0] * 2)])),
          "node 'mul': Mul operands of shapes [4,3] and [2] are not broadcast-compatible")
    write("transpose_axis.onnx",
          model(good_graph([helper.make_node("Transpose", ["x"], ["y"], name="tr", perm=[0, 2])])),
          "error")
    write("reduce_axis.onnx",
          model(good_graph([helper.make_node("ReduceSum", ["x", "axes"], ["y"], name="rs")],
                           initializers=[helper.make_tensor("axes", TensorProto.INT64, [1], [5])])),
          "node 'rs': ReduceSum axis 5 is out of range for rank 2")
    write("excessive_rank.onnx",
          model(good_graph(inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [1] * 12)],
                           outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [1] * 12)])),
          "rank 12, more than the limit")
    write("element_type.onnx",
          model(good_graph(inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT16, [4, 3])],
                           outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT16, [4, 3])])),
          "input 'x' has element type FLOAT16, which nncc does not compute with")
    write("symbolic_inner_dim.onnx",
          model(good_graph(inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, "M"])],
                           outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, "M"])])),
          "only the batch dimension may be symbolic")
    write("no_shape.onnx",
          model(good_graph(inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, None)])),
          "shape")
    write("wrong_output_shape.onnx",
          model(good_graph(outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 5])])),
          "output 'y' is declared with a shape other than the computed [4,3]")
    write("attribute_range.onnx",
          model(good_graph([helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transA=7)],
                           initializers=[tensor("w", [3, 3], floats=[1.0] * 9)])),
          "node 'fc': attribute 'transA' must be 0 or 1, got 7")
    external = tensor("w", [4, 3])
    external.data_location = TensorProto.EXTERNAL
    external.external_data.add(key="location", value="../../../../etc/passwd")
    write("external_escaping.onnx",
          model(good_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                           initializers=[external])), "leaves the model's folder")
    absolute = tensor("w", [4, 3])
    absolute.data_location = TensorProto.EXTERNAL
    absolute.external_data.add(key="location", value="/etc/passwd")
    write("external_absolute.onnx",
          model(good_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                           initializers=[absolute])), "is absolute")
    write("unknown_domain.onnx",
          model(good_graph([helper.make_node("Tanh", ["x"], ["y"], name="t", domain="com.example")]),
                extra_opsets=[helper.make_opsetid("com.example", 1)]),
          "node 't': unsupported op 'Tanh' of domain 'com.example'")
    write("bad_reshape.onnx",
          model(good_graph([helper.make_node("Reshape", ["x", "shape"], ["y"], name="rs")],
                           initializers=[helper.make_tensor("shape", TensorProto.INT64, [2], [5, 2])])),
          "node 'rs': cannot reshape [4,3] to [5,2]: the element counts differ")
    write("integer_math.onnx",
          model(good_graph([helper.make_node("Add", ["x", "x"], ["y"], name="add")],
                           inputs=[helper.make_tensor_value_info("x", TensorProto.INT64, [4, 3])],
                           outputs=[helper.make_tensor_value_info("y", TensorProto.INT64, [4, 3])])),
          "of integers computed at run time is not supported")

    with open(os.path.join(HERE, "expected.txt"), "w") as f:
        f.write("# file: text the one-line diagnostic must contain (beside the file name)\n")
        for name in sorted(expected):
            f.write("%s: %s\n" % (name, expected[name]))


if __name__ == "__main__":
    main()
