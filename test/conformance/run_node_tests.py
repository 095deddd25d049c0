#!/usr/bin/python3
"""Runs ONNX backend node tests through libraries compiled by nncc.

    run_node_tests.py --list node_tests.txt --work DIR [--nncc nncc]
                      [--data /usr/share/libonnx-testdata/data/node] [TEST...]

Each test's model.onnx is compiled in inference mode; every
test_data_set_*/input_*.pb is fed to nncc_forward through ctypes and the
outputs compared with output_*.pb within ONNX's default tolerances (rtol
1e-3, atol 1e-7). The list names the tests and what is expected of each:

    test_add: pass
    test_add_uint8: skip element type uint8

A listed test that fails, or a skipped one that passes, is a failure: the
list must say what nncc does. Integer graph inputs that an op reads as a
shape, axes, sizes or bounds (Reshape's shape, Slice's starts, ...) are
bound as constants from the test's data, as onnx-mlir's constant mode does;
nncc needs those at compile time. A report prints pass, fail and skip counts
per op.

    run_node_tests.py --report --work DIR --data .../pytorch-converted

runs every test of a folder without a list and only reports. Needs
python3-onnx and python3-numpy (Debian), not torch.
"""
import argparse
import ctypes
import glob
import os
import subprocess
import sys

import numpy as np
import onnx
import onnx.helper
import onnx.numpy_helper

DTYPES = {1: np.float32, 6: np.int32, 7: np.int64}

# Operand positions that nncc needs as compile-time constants.
STATIC_OPERANDS = {
    "Reshape": [1], "Expand": [1], "ReduceSum": [1], "Squeeze": [1],
    "Unsqueeze": [1], "Slice": [1, 2, 3, 4], "Split": [1], "Tile": [1],
    "ConstantOfShape": [0], "Trilu": [1], "Range": [0, 1, 2],
    "Dropout": [1, 2], "Pad": [1, 2], "Clip": [1, 2],
}


def bind_static_inputs(model, data_set):
    """Turns graph inputs read as static operands into Constant nodes holding
    the data set's values. Returns the names bound."""
    static = set()
    for node in model.graph.node:
        for position in STATIC_OPERANDS.get(node.op_type, []):
            if position < len(node.input) and node.input[position]:
                static.add(node.input[position])
    bound = []
    for i, value in enumerate(model.graph.input):
        if value.name not in static:
            continue
        path = os.path.join(data_set, "input_%d.pb" % i)
        tensor = onnx.TensorProto()
        with open(path, "rb") as f:
            tensor.ParseFromString(f.read())
        # A Constant node, not an initializer: nncc trains float
        # initializers, so only a Constant is a compile-time constant.
        model.graph.node.insert(0, onnx.helper.make_node(
            "Constant", [], [value.name], value=tensor))
        bound.append(i)
    for i in reversed(bound):
        del model.graph.input[i]
    return bound


class TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32),
                ("rank", ctypes.c_int32), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("numel", ctypes.c_int64)]


def read_list(path):
    expected = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            name, _, what = line.partition(":")
            expected[name.strip()] = what.strip()
    return expected


def compile_model(model_path, library, nncc):
    result = subprocess.run([nncc, model_path, "-o", library, "--inference"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ["exit %d" % result.returncode]
        return "compile: " + lines[-1]
    return None


def run_data_set(library, data_set, skip_inputs):
    """Feeds one data set to a compiled library; None on success."""
    lib = ctypes.CDLL(library)
    for fn in ("nncc_input_info", "nncc_output_info"):
        getattr(lib, fn).restype = ctypes.POINTER(TensorInfo)
    lib.nncc_create.restype = ctypes.c_void_p
    lib.nncc_destroy.argtypes = [ctypes.c_void_p]
    lib.nncc_forward.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    model = lib.nncc_create()
    try:
        files = sorted(glob.glob(os.path.join(data_set, "input_*.pb")),
                       key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0]))
        files = [f for i, f in enumerate(files) if i not in skip_inputs]
        if len(files) != lib.nncc_num_inputs():
            return "the test has %d inputs, the library %d" % (
                len(files), lib.nncc_num_inputs())
        inputs = []
        for i, path in enumerate(files):
            tensor = onnx.TensorProto()
            with open(path, "rb") as f:
                tensor.ParseFromString(f.read())
            info = lib.nncc_input_info(i).contents
            array = np.ascontiguousarray(onnx.numpy_helper.to_array(tensor),
                                         dtype=DTYPES[info.dtype])
            if array.size != info.numel:
                return "input %d has %d elements, the library %d" % (
                    i, array.size, info.numel)
            inputs.append(array)
        outputs = []
        for i in range(lib.nncc_num_outputs()):
            info = lib.nncc_output_info(i).contents
            shape = [info.shape[k] for k in range(info.rank)]
            outputs.append(np.zeros(shape, dtype=DTYPES[info.dtype]))
        in_ptrs = (ctypes.c_void_p * max(1, len(inputs)))(
            *[a.ctypes.data for a in inputs])
        out_ptrs = (ctypes.c_void_p * max(1, len(outputs)))(
            *[a.ctypes.data for a in outputs])
        rc = lib.nncc_forward(model, in_ptrs, out_ptrs)
        if rc != 0:
            return "nncc_forward returned %d" % rc
        for i, actual in enumerate(outputs):
            tensor = onnx.TensorProto()
            with open(os.path.join(data_set, "output_%d.pb" % i), "rb") as f:
                tensor.ParseFromString(f.read())
            expected = onnx.numpy_helper.to_array(tensor)
            if expected.size != actual.size:
                return "output %d has %d elements, expected %d" % (
                    i, actual.size, expected.size)
            try:
                np.testing.assert_allclose(actual, expected.reshape(actual.shape),
                                           rtol=1e-3, atol=1e-7)
            except AssertionError as e:
                return "output %d differs: %s" % (i, " ".join(str(e).split())[:200])
    finally:
        lib.nncc_destroy(model)
    return None


def run_test(test_dir, work, nncc):
    """Returns None on success, else what went wrong."""
    name = os.path.basename(test_dir)
    for k, data_set in enumerate(sorted(glob.glob(os.path.join(test_dir, "test_data_set_*")))):
        model = onnx.load(os.path.join(test_dir, "model.onnx"))
        bound = bind_static_inputs(model, data_set)
        model_path = os.path.join(test_dir, "model.onnx")
        if bound:
            model_path = os.path.join(work, "%s_%d.onnx" % (name, k))
            onnx.save(model, model_path)
        library = os.path.join(work, "%s_%d.so" % (name, k))
        error = compile_model(model_path, library, nncc)
        if error is None:
            error = run_data_set(library, data_set, set(bound))
        if error is not None:
            return error
    return None


def op_of(test_dir):
    """The op a node test is about: its model's (last) node's op type."""
    try:
        model = onnx.load(os.path.join(test_dir, "model.onnx"))
        return model.graph.node[-1].op_type if model.graph.node else "?"
    except Exception:  # a model onnx cannot load is reported under "?"
        return "?"


def print_report(per_op):
    print("%-28s %6s %6s %6s" % ("op", "pass", "fail", "skip"))
    for op in sorted(per_op):
        counts = per_op[op]
        print("%-28s %6d %6d %6d" % (op, counts[0], counts[1], counts[2]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--list")
    parser.add_argument("--work", required=True)
    parser.add_argument("--nncc", default="nncc")
    parser.add_argument("--data", default="/usr/share/libonnx-testdata/data/node")
    parser.add_argument("--report", action="store_true",
                        help="run every test of --data and only report")
    parser.add_argument("tests", nargs="*")
    args = parser.parse_args()
    if not args.report and not args.list:
        parser.error("--list is required unless --report")
    expected = read_list(args.list) if args.list else {}
    os.makedirs(args.work, exist_ok=True)
    if args.report:
        names = args.tests or sorted(d for d in os.listdir(args.data)
                                     if os.path.isdir(os.path.join(args.data, d)))
    else:
        names = args.tests or sorted(expected)
    passed = failed = skipped = 0
    per_op = {}
    for name in names:
        what = expected.get(name, "pass")
        test_dir = os.path.join(args.data, name)
        if not os.path.isdir(test_dir):
            print("FAIL %s: no such test in %s" % (name, args.data))
            failed += 1
            continue
        error = run_test(test_dir, args.work, args.nncc)
        counts = per_op.setdefault(op_of(test_dir), [0, 0, 0])
        if args.report:
            if error is None:
                passed += 1
                counts[0] += 1
            else:
                print("%s: %s" % (name, error))
                failed += 1
                counts[1] += 1
        elif what == "pass" and error is None:
            passed += 1
            counts[0] += 1
        elif what == "pass":
            print("FAIL %s: %s" % (name, error))
            failed += 1
            counts[1] += 1
        elif error is None:
            print("FAIL %s: passes, but the list says '%s'" % (name, what))
            failed += 1
            counts[1] += 1
        else:
            skipped += 1
            counts[2] += 1
    print_report(per_op)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 0 if args.report or not failed else 1


if __name__ == "__main__":
    sys.exit(main())
