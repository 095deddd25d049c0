#!/usr/bin/python3
"""Trains the iris MLP with nncc and with PyTorch, from the same initial
weights on the same minibatches (Adam, lr 0.01, batch 16, 60 epochs, the
rows in one fixed mixed order), and plots both losses per step into one PNG.

    /usr/bin/python3 examples/plot_loss.py LIBIRIS.so [loss.png]

LIBIRIS.so is the library examples/embed builds (--prefix=iris --batch=16
--loss=cross-entropy --optimizer=adam --lr=0.01); nncc reports each step's
loss through nncc_train's progress callback. Needs Debian's python3-torch
and python3-matplotlib.
"""
import ctypes
import importlib.util
import math
import os
import random
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EPOCHS = 60


def module_at(path):
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def iris_data():
    """train_iris.py's split and normalization (every fifth row held out),
    the training rows in a fixed mixed order."""
    with open(os.path.join(HERE, "data", "iris.csv")) as f:
        rows = [line.strip().split(",") for line in f.readlines()[1:] if line.strip()]
    data = [[float(v) for v in row[:4]] for row in rows]
    labels = [int(row[4]) for row in rows]
    train = [i for i in range(len(rows)) if i % 5 != 0]
    means = [sum(data[i][k] for i in train) / len(train) for k in range(4)]
    sds = [math.sqrt(sum((data[i][k] - means[k]) ** 2 for i in train) / len(train))
           for k in range(4)]
    # The file is sorted by class: mix the rows once (each epoch then takes
    # them in the same order, in nncc and in PyTorch).
    random.Random(0).shuffle(train)
    x = [[(data[i][k] - means[k]) / sds[k] for k in range(4)] for i in train]
    return x, [labels[i] for i in train]


def nncc_losses(library, x, y):
    embed = module_at(os.path.join(HERE, "embed", "train_iris.py"))
    lib = embed.load(library)
    train_x = (ctypes.c_float * (4 * len(x)))(*[v for row in x for v in row])
    train_y = (ctypes.c_int64 * len(y))(*y)
    inputs = (ctypes.c_void_p * 1)(ctypes.cast(train_x, ctypes.c_void_p))
    targets = (ctypes.c_void_p * 1)(ctypes.cast(train_y, ctypes.c_void_p))
    losses = []

    @embed.PROGRESS
    def report(user, epoch, step, loss):
        losses.append(loss)
        return 0

    model = lib.iris_create()
    options = embed.TrainOptions(shuffle=0, seed=0, report_every=1)
    embed.check(lib, lib.iris_train(model, inputs, targets, len(x), EPOCHS,
                                    ctypes.byref(options), report, None),
                "training")
    lib.iris_destroy(model)
    return losses


def torch_losses(x, y, batch):
    net = module_at(os.path.join(HERE, "embed", "make_model.py")).build()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, y = torch.tensor(x), torch.tensor(y)
    losses = []
    for _ in range(EPOCHS):
        for first in range(0, len(y), batch):
            optimizer.zero_grad()
            loss = loss_fn(net(x[first:first + batch]), y[first:first + batch])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    output = sys.argv[2] if len(sys.argv) == 3 else "loss.png"
    torch.set_num_threads(1)
    x, y = iris_data()
    ours = nncc_losses(sys.argv[1], x, y)
    theirs = torch_losses(x, y, 16)
    if len(ours) != len(theirs):
        sys.exit("nncc reported %d steps, PyTorch took %d" % (len(ours), len(theirs)))
    worst = max(abs(a - b) / max(abs(b), 1e-12) for a, b in zip(ours, theirs))
    plt.figure(figsize=(8, 4.5))
    plt.plot(theirs, label="PyTorch %s" % torch.__version__, linewidth=3, alpha=0.5)
    plt.plot(ours, label="nncc", linewidth=1)
    plt.xlabel("step (batch 16, Adam, lr 0.01)")
    plt.ylabel("cross-entropy loss")
    plt.yscale("log")
    plt.title("iris MLP: loss per step")
    plt.legend()
    plt.tight_layout()
    plt.savefig(output, dpi=100)
    print("%d steps; last loss nncc %.6f, PyTorch %.6f; largest relative "
          "difference %.2g; wrote %s" % (len(ours), ours[-1], theirs[-1], worst, output))


if __name__ == "__main__":
    main()
