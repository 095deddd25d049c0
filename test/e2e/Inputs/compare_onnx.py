#!/usr/bin/python3
"""Checks that EXPORTED is ORIGINAL with only initializer values changed:
the same graph (nodes, inputs, outputs, value infos, initializer names,
types and shapes, order), opsets, IR version, metadata and doc strings.

    compare_onnx.py ORIGINAL.onnx EXPORTED.onnx
"""
import sys

import onnx
from onnx import numpy_helper


def main():
    original, exported = (onnx.load(path) for path in sys.argv[1:3])
    onnx.checker.check_model(exported)
    changed = 0
    for a, b in zip(original.graph.initializer, exported.graph.initializer):
        x, y = numpy_helper.to_array(a), numpy_helper.to_array(b)
        if a.name != b.name or x.dtype != y.dtype or x.shape != y.shape:
            sys.exit("initializer %s differs in name, type or shape" % a.name)
        changed += not (x == y).all()
    if len(original.graph.initializer) != len(exported.graph.initializer):
        sys.exit("the number of initializers differs")
    # Everything but the initializers' data, byte for byte.
    for m in (original, exported):
        del m.graph.initializer[:]
    if original.SerializeToString() != exported.SerializeToString():
        sys.exit("the model differs outside its initializers")
    print("%d initializers replaced, everything else unchanged" % changed)


if __name__ == "__main__":
    main()
