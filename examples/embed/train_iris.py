#!/usr/bin/env python3
"""Drives the iris training library compiled by nncc from Python, with
nothing but the standard library (ctypes): the same data, training loop and
evaluation as train_iris.c.

    python3 train_iris.py path/to/libiris.so [iris.csv]

The library is the one examples/embed/CMakeLists.txt builds (--prefix=iris).
"""
import ctypes
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EPOCHS = 60


class TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32),
                ("rank", ctypes.c_int32), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("numel", ctypes.c_int64)]


class TrainOptions(ctypes.Structure):
    _fields_ = [("shuffle", ctypes.c_int32), ("seed", ctypes.c_uint64),
                ("report_every", ctypes.c_int64)]


PROGRESS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int64,
                            ctypes.c_int64, ctypes.c_float)


def load(path):
    lib = ctypes.CDLL(path)
    lib.iris_create.restype = ctypes.c_void_p
    lib.iris_destroy.argtypes = [ctypes.c_void_p]
    lib.iris_batch_size.restype = ctypes.c_int64
    lib.iris_input_info.restype = ctypes.POINTER(TensorInfo)
    lib.iris_output_info.restype = ctypes.POINTER(TensorInfo)
    lib.iris_strerror.restype = ctypes.c_char_p
    lib.iris_train.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p),
                               ctypes.POINTER(ctypes.c_void_p), ctypes.c_int64,
                               ctypes.c_int64, ctypes.POINTER(TrainOptions),
                               PROGRESS, ctypes.c_void_p]
    lib.iris_forward.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p),
                                 ctypes.POINTER(ctypes.c_void_p)]
    return lib


def check(lib, rc, what):
    if rc != 0:
        sys.exit("%s failed: %s" % (what, lib.iris_strerror(rc).decode()))


def main():
    lib = load(sys.argv[1])
    csv = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "data", "iris.csv")
    with open(csv) as f:
        rows = [line.strip().split(",") for line in f.readlines()[1:] if line.strip()]
    data = [[float(v) for v in row[:4]] for row in rows]
    labels = [int(row[4]) for row in rows]

    train = [i for i in range(len(rows)) if i % 5 != 0]
    test = [i for i in range(len(rows)) if i % 5 == 0]
    means = [sum(data[i][k] for i in train) / len(train) for k in range(4)]
    sds = [math.sqrt(sum((data[i][k] - means[k]) ** 2 for i in train) / len(train))
           for k in range(4)]
    norm = [[(row[k] - means[k]) / sds[k] for k in range(4)] for row in data]

    train_x = (ctypes.c_float * (4 * len(train)))(*[v for i in train for v in norm[i]])
    train_y = (ctypes.c_int64 * len(train))(*[labels[i] for i in train])
    inputs = (ctypes.c_void_p * 1)(ctypes.cast(train_x, ctypes.c_void_p))
    targets = (ctypes.c_void_p * 1)(ctypes.cast(train_y, ctypes.c_void_p))

    @PROGRESS
    def report(user, epoch, step, loss):
        print("epoch %3d  loss %.4f" % (epoch + 1, loss))
        return 0

    model = lib.iris_create()
    options = TrainOptions(shuffle=1, seed=42, report_every=0)
    check(lib, lib.iris_train(model, inputs, targets, len(train), EPOCHS,
                              ctypes.byref(options), report, None), "training")

    batch = lib.iris_batch_size()
    correct = 0
    for first in range(0, len(test), batch):
        chunk = test[first:first + batch]
        x = (ctypes.c_float * (4 * batch))(*[v for i in chunk for v in norm[i]])
        logits = (ctypes.c_float * (3 * batch))()
        check(lib, lib.iris_forward(model, (ctypes.c_void_p * 1)(ctypes.cast(x, ctypes.c_void_p)),
                                    (ctypes.c_void_p * 1)(ctypes.cast(logits, ctypes.c_void_p))),
              "forward")
        for j, i in enumerate(chunk):
            scores = logits[3 * j:3 * j + 3]
            correct += scores.index(max(scores)) == labels[i]
    lib.iris_destroy(model)
    print("test accuracy %.3f (%d of %d)" % (correct / len(test), correct, len(test)))


if __name__ == "__main__":
    main()
