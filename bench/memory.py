#!/usr/bin/python3
"""Memory benchmark: for an MLP, a CNN and a small transformer, the arena
nncc plans for a training step against the naive sum of its buffers (from
`nncc --stats`), the kernels of a step against its ops, and the peak resident
memory of a process that trains the model with the nncc library against the
peak of the same training in PyTorch, side by side.

    /usr/bin/python3 bench/memory.py [--nncc build/bin/nncc]

Needs Debian's python3-torch and python3-onnx (not needed by the tests).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "test", "e2e", "models"))
from generate import Block  # noqa: E402  (the goldens' transformer block)

SAMPLES = 256
EPOCHS = 1


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(),
            torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))

    def forward(self, x):
        return self.net(x)


class CNN(torch.nn.Module):
    """Two conv + batch norm + ReLU + max-pool stages on 28x28, two linear
    layers."""

    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 5, padding=2), torch.nn.BatchNorm2d(16),
            torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 5, padding=2), torch.nn.BatchNorm2d(32),
            torch.nn.ReLU(), torch.nn.MaxPool2d(2))
        self.classifier = torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Linear(32 * 7 * 7, 128),
            torch.nn.ReLU(), torch.nn.Linear(128, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class Transformer(torch.nn.Module):
    """A 2-block pre-norm transformer language model, 4 heads."""

    def __init__(self, vocab=64, dim=64, context=32):
        super().__init__()
        self.tokens = torch.nn.Embedding(vocab, dim)
        self.positions = torch.nn.Embedding(context, dim)
        self.blocks = torch.nn.ModuleList([Block(dim, 4), Block(dim, 4)])
        self.ln = torch.nn.LayerNorm(dim)
        self.head = torch.nn.Linear(dim, vocab)

    def forward(self, tokens):
        x = self.tokens(tokens) + self.positions(torch.arange(tokens.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))


# name: (model, example input of one batch, nncc options, optimizer)
MODELS = {
    "mlp": (MLP, lambda b: torch.rand(b, 1, 28, 28), 64,
            ["--optimizer=sgd", "--lr=0.01"]),
    "cnn": (CNN, lambda b: torch.rand(b, 1, 28, 28), 32,
            ["--optimizer=sgd", "--momentum=0.9", "--lr=0.01"]),
    "transformer": (Transformer, lambda b: torch.randint(0, 64, (b, 32)), 16,
                    ["--optimizer=adamw", "--lr=0.001"]),
}


def optimizer_for(name, params):
    if name == "mlp":
        return torch.optim.SGD(params, lr=0.01)
    if name == "cnn":
        return torch.optim.SGD(params, lr=0.01, momentum=0.9)
    return torch.optim.AdamW(params, lr=0.001)


def train_torch(name):
    """The PyTorch side, in its own process: prints its peak RSS in KiB."""
    torch.set_num_threads(1)
    make, example, batch, _ = MODELS[name]
    model = make()
    x = example(SAMPLES)
    classes = 64 if name == "transformer" else 10
    y = torch.randint(0, classes, x.shape[:2] if name == "transformer"
                      else (SAMPLES,))
    optimizer = optimizer_for(name, model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(EPOCHS):
        for first in range(0, SAMPLES, batch):
            optimizer.zero_grad()
            logits = model(x[first:first + batch])
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]),
                           y[first:first + batch].reshape(-1))
            loss.backward()
            optimizer.step()
    print("peak_rss_kib %d" % peak_rss_kib())


def peak_rss_kib():
    """VmHWM: the peak of this process (getrusage's ru_maxrss would include
    the peak of the process that started it)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status")


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, capture_output=True, text=True,
                          **kwargs).stdout


def measure(name, nncc, work):
    make, example, batch, options = MODELS[name]
    torch.manual_seed(0)
    model = make()
    onnx_path = os.path.join(work, name + ".onnx")
    torch.onnx.export(model, (example(batch),), onnx_path, opset_version=17,
                      do_constant_folding=False,
                      training=torch.onnx.TrainingMode.TRAINING,
                      input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
    library = os.path.join(work, name + ".so")
    stats = run([nncc, onnx_path, "-o", library, "--batch=%d" % batch,
                 "--loss=cross-entropy", "--stats"] + options)
    step = dict(re.findall(r"(\w+)=(\d+)",
                           [l for l in stats.splitlines()
                            if l.startswith("train_step:")][0]))
    program = os.path.join(work, name + "_train")
    run(["cc", "-std=c11", "-O2", "-DMODEL_HEADER=\"%s.h\"" % name,
         "-I" + work, os.path.join(HERE, "train_rss.c"), library,
         "-Wl,-rpath," + work, "-o", program])
    out = run([program, str(SAMPLES), str(EPOCHS)])
    nncc_rss = int(re.search(r"peak_rss_kib (\d+)", out).group(1))
    out = run([sys.executable, os.path.abspath(__file__), "--torch", name],
              env=dict(os.environ, OPENBLAS_CORETYPE="SkylakeX"))
    torch_rss = int(re.search(r"peak_rss_kib (\d+)", out).group(1))
    return {k: int(v) for k, v in step.items()}, nncc_rss, torch_rss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nncc", default=os.path.join(ROOT, "build", "bin",
                                                       "nncc"))
    parser.add_argument("--torch", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch:
        train_torch(args.torch)
        return
    print("%d samples, %d epochs, one thread; peak RSS of the whole process"
          % (SAMPLES, EPOCHS))
    print("%-12s %5s %7s %6s %10s %10s %6s %12s %12s %6s" % (
        "model", "ops", "kernels", "ratio", "arena", "naive", "ratio",
        "nncc RSS", "torch RSS", "ratio"))
    with tempfile.TemporaryDirectory() as work:
        for name in MODELS:
            step, nncc_rss, torch_rss = measure(name, args.nncc, work)
            print("%-12s %5d %7d %6.2f %10d %10d %6.2f %9d KiB %9d KiB %6.3f" % (
                name, step["ops"], step["kernels"],
                step["kernels"] / step["ops"], step["arena_bytes"],
                step["naive_bytes"], step["arena_bytes"] / step["naive_bytes"],
                nncc_rss, torch_rss, nncc_rss / torch_rss))


if __name__ == "__main__":
    main()
