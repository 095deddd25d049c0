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
list must say what nncc does. Needs python3-onnx and python3-numpy (Debian),
not torch.
"""
import argparse
import ctypes
import glob
import os
import subprocess
import sys

import numpy as np
import onnx
import onnx.numpy_helper

DTYPES = {1: np.float32, 6: np.int32, 7: np.int64}


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


def run_test(test_dir, work, nncc):
    """Returns None on success, else what went wrong."""
    name = os.path.basename(test_dir)
    library = os.path.join(work, name + ".so")
    result = subprocess.run([nncc, os.path.join(test_dir, "model.onnx"), "-o",
                             library, "--inference"], capture_output=True, text=True)
    if result.returncode != 0:
        return "compile: " + result.stderr.strip().splitlines()[-1]
    lib = ctypes.CDLL(library)
    for fn in ("nncc_input_info", "nncc_output_info"):
        getattr(lib, fn).restype = ctypes.POINTER(TensorInfo)
    lib.nncc_create.restype = ctypes.c_void_p
    lib.nncc_destroy.argtypes = [ctypes.c_void_p]
    lib.nncc_forward.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    model = lib.nncc_create()
    try:
        for data_set in sorted(glob.glob(os.path.join(test_dir, "test_data_set_*"))):
            inputs = []
            for i in range(lib.nncc_num_inputs()):
                tensor = onnx.TensorProto()
                with open(os.path.join(data_set, "input_%d.pb" % i), "rb") as f:
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
                try:
                    np.testing.assert_allclose(actual, expected.reshape(actual.shape)
                                               if expected.size == actual.size else expected,
                                               rtol=1e-3, atol=1e-7)
                except AssertionError as e:
                    return "output %d differs: %s" % (i, " ".join(str(e).split())[:200])
    finally:
        lib.nncc_destroy(model)
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--list", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--nncc", default="nncc")
    parser.add_argument("--data", default="/usr/share/libonnx-testdata/data/node")
    parser.add_argument("tests", nargs="*")
    args = parser.parse_args()
    expected = read_list(args.list)
    os.makedirs(args.work, exist_ok=True)
    names = args.tests or sorted(expected)
    passed = failed = skipped = 0
    for name in names:
        what = expected.get(name, "pass")
        test_dir = os.path.join(args.data, name)
        if not os.path.isdir(test_dir):
            print("FAIL %s: no such test in %s" % (name, args.data))
            failed += 1
            continue
        error = run_test(test_dir, args.work, args.nncc)
        if what == "pass" and error is None:
            passed += 1
        elif what == "pass":
            print("FAIL %s: %s" % (name, error))
            failed += 1
        elif error is None:
            print("FAIL %s: passes, but the list says '%s'" % (name, what))
            failed += 1
        else:
            skipped += 1
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
