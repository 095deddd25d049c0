#!/usr/bin/python3
"""Speed benchmark: milliseconds per training step of nncc and of PyTorch on
the same models, the same batch and the same optimizer, side by side, one
thread each (and nncc with --threads=2 against --threads=1 on every model
but XOR); the share of nncc's step in each kind of kernel (convolution,
GEMM, pooling, ..., from a library compiled with --profile); the GFLOP/s of nncc's
512x512x512 matmul against the peak an FMA micro-benchmark measures; and the
compile time of each model.

    /usr/bin/python3 bench/train_speed.py [--nncc build/bin/nncc]
        [--models xor,mlp,cnn,resnet,resnet18,lstm,transformer]

PyTorch runs with one thread and OPENBLAS_CORETYPE=SkylakeX, so Debian's
OpenBLAS uses this CPU's vector units, and with glibc's malloc keeping freed
memory (GLIBC_TUNABLES, see REFERENCE_ENV), so that its steps do not fault
their tensors' pages in again. Needs Debian's python3-torch and
python3-onnx (not needed by the tests): run bench/setup.sh first, which
installs them with OpenBLAS; the benchmark prints the BLAS PyTorch mapped and
refuses to report ratios against any other.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from memory import Transformer  # noqa: E402  (the memory benchmark's LM)


class XOR(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(),
                                       torch.nn.Linear(4, 1))

    def forward(self, x):
        return self.net(x)


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Linear(784, 512), torch.nn.ReLU(),
            torch.nn.Linear(512, 512), torch.nn.ReLU(),
            torch.nn.Linear(512, 10))

    def forward(self, x):
        return self.net(x)


class LeNet(torch.nn.Module):
    """conv 5x5 (16) + ReLU + max-pool, conv 5x5 (32) + ReLU + max-pool, two
    linear layers, on 28x28."""

    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2))
        self.classifier = torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Linear(32 * 4 * 4, 128),
            torch.nn.ReLU(), torch.nn.Linear(128, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class BasicBlock(torch.nn.Module):
    """ResNet's basic block: two 3x3 convolutions with batch norm, and the
    input added back (through a strided 1x1 convolution when the block
    halves the resolution)."""

    def __init__(self, inputs, outputs, stride):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(outputs)
        self.conv2 = torch.nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(outputs)
        self.shortcut = torch.nn.Sequential()
        if stride != 1 or inputs != outputs:
            self.shortcut = torch.nn.Sequential(
                torch.nn.Conv2d(inputs, outputs, 1, stride, bias=False),
                torch.nn.BatchNorm2d(outputs))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet(torch.nn.Module):
    """A CIFAR-style ResNet stack on 32x32 RGB: a 3x3 stem of 16 channels,
    two blocks at 16 channels, one block down to 16x16 at 32 channels,
    global average pooling and a linear layer."""

    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Sequential(
            torch.nn.Conv2d(3, 16, 3, 1, 1, bias=False),
            torch.nn.BatchNorm2d(16), torch.nn.ReLU())
        self.blocks = torch.nn.Sequential(
            BasicBlock(16, 16, 1), BasicBlock(16, 16, 1),
            BasicBlock(16, 32, 2))
        self.head = torch.nn.Linear(32, 10)

    def forward(self, x):
        y = self.blocks(self.stem(x))
        return self.head(torch.flatten(
            torch.nn.functional.adaptive_avg_pool2d(y, 1), 1))


class LSTMClassifier(torch.nn.Module):
    """Text classification with torch.nn.LSTM: an embedding of 96 tokens
    (dimension 64), one LSTM layer of 128 (batch first), the last step's
    hidden state, a linear layer to 10 classes."""

    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(96, 64)
        self.lstm = torch.nn.LSTM(64, 128, batch_first=True)
        self.head = torch.nn.Linear(128, 10)

    def forward(self, tokens):
        h, _ = self.lstm(self.embedding(tokens))
        return self.head(h[:, -1])


def sequence_batch(generator):
    tokens = torch.randint(0, 96, (32, 32), generator=generator)
    return tokens, torch.randint(0, 10, (32,), generator=generator)


def xor_batch(generator):
    x = torch.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
    return x, torch.tensor([[0.], [1.], [1.], [0.]])


def image_batch(batch, channels=1, size=28):
    def make(generator):
        x = torch.rand(batch, channels, size, size, generator=generator)
        return x, torch.randint(0, 10, (batch,), generator=generator)
    return make


def token_batch(generator):
    tokens = torch.randint(0, 96, (16, 64), generator=generator)
    return tokens, torch.randint(0, 96, (16, 64), generator=generator)


def resnet18():
    """torchvision's resnet18 as a user has it (python3-torchvision)."""
    import torchvision
    return torchvision.models.resnet18(num_classes=10)


# name: model, batch maker, loss, nncc options, PyTorch optimizer, steps
MODELS = {
    "xor": (XOR, xor_batch, "mse", ["--optimizer=sgd", "--lr=0.1"],
            lambda p: torch.optim.SGD(p, lr=0.1), 20000),
    "mlp": (MLP, image_batch(128), "cross-entropy",
            ["--optimizer=adam", "--lr=0.001"],
            lambda p: torch.optim.Adam(p, lr=0.001), 20),
    "cnn": (LeNet, image_batch(64), "cross-entropy",
            ["--optimizer=sgd", "--lr=0.01", "--momentum=0.9"],
            lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9), 20),
    "resnet": (ResNet, image_batch(32, 3, 32), "cross-entropy",
               ["--optimizer=sgd", "--lr=0.01", "--momentum=0.9"],
               lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9), 10),
    # torchvision's resnet18 as a user has it, on 64x64 RGB images.
    "resnet18": (resnet18, image_batch(16, 3, 64), "cross-entropy",
                 ["--optimizer=sgd", "--lr=0.01", "--momentum=0.9"],
                 lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9), 5),
    # Sequences of 32 tokens, batch 32.
    "lstm": (LSTMClassifier, sequence_batch, "cross-entropy",
             ["--optimizer=adam", "--lr=0.001"],
             lambda p: torch.optim.Adam(p, lr=0.001), 10),
    # 2 pre-norm blocks (GELU MLP), 4 heads, d 128, context 64, vocabulary 96.
    "transformer": (lambda: Transformer(vocab=96, dim=128, context=64),
                    token_batch, "cross-entropy",
                    ["--optimizer=adamw", "--lr=0.001"],
                    lambda p: torch.optim.AdamW(p, lr=0.001), 10),
}


def loss_of(kind, output, target):
    if kind == "mse":
        return torch.nn.functional.mse_loss(output, target)
    return torch.nn.functional.cross_entropy(
        output.reshape(-1, output.shape[-1]), target.reshape(-1))


def run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise SystemExit("%s failed:\n%s%s" % (" ".join(cmd), result.stdout,
                                               result.stderr))
    return result.stdout


def time_torch(name, work, steps):
    """The PyTorch side, in its own process (one thread, SkylakeX BLAS)."""
    torch.set_num_threads(1)
    make, _, kind, _, optimizer_for, _ = MODELS[name]
    model = torch.load(os.path.join(work, name + ".pt"))
    x, y = torch.load(os.path.join(work, name + ".batch.pt"))
    optimizer = optimizer_for(model.parameters())

    def step():
        optimizer.zero_grad()
        loss = loss_of(kind, model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(max(2, steps // 10)):
        step()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(steps):
            loss = step()
        best = min(best, (time.perf_counter() - start) * 1e3 / steps)
    print("ms_per_step %.6f\nloss %.6f" % (best, loss))


def describe_blas(size=512):
    """In the reference process: the BLAS libraries it mapped once a matmul
    ran, and the GFLOP/s of its size^3 sgemm."""
    torch.set_num_threads(1)
    a, b = torch.rand(size, size), torch.rand(size, size)
    for _ in range(3):
        torch.mm(a, b)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(10):
            torch.mm(a, b)
        best = min(best, (time.perf_counter() - start) / 10)
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line}
    print("blas %s\nsgemm_gflops %.3f" % (
        ",".join(sorted(p for p in paths if p.startswith("/"))) or "none",
        2 * size ** 3 / best / 1e9))


# PyTorch's environment: OpenBLAS's kernels for this CPU, on one thread
# (without OPENBLAS_NUM_THREADS its sgemm uses every core), and glibc's
# malloc keeping the memory PyTorch frees. By default every tensor of more
# than a few MiB is a fresh mmap, freed with munmap, so each step faults all
# its pages in again; in this project's VMs that took PyTorch's resnet step
# from 31 ms to 77 ms and its LeNet's from 6.8 to 29 ms, while nncc's
# memory is allocated once. The ratios are against the faster PyTorch.
REFERENCE_MALLOC = ("glibc.malloc.mmap_threshold=4294967296:"
                    "glibc.malloc.trim_threshold=17179869184")
REFERENCE_ENV = dict(os.environ, OPENBLAS_CORETYPE="SkylakeX",
                     OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                     GLIBC_TUNABLES=REFERENCE_MALLOC)


def check_reference_blas():
    """The BLAS the reference runs on, and its sgemm GFLOP/s; refuses to go
    on with the reference netlib BLAS, against which every ratio is wrong."""
    out = run([sys.executable, os.path.abspath(__file__), "--blas"],
              env=REFERENCE_ENV)
    blas = re.search(r"blas (\S+)", out).group(1)
    if "openblas" not in blas:
        raise SystemExit("PyTorch runs on %s, not OpenBLAS: the ratios would "
                         "be against an unfair baseline. Run bench/setup.sh "
                         "first." % blas)
    return blas, float(re.search(r"sgemm_gflops (\S+)", out).group(1))


def compile_model(nncc, onnx_path, library, options):
    start = time.perf_counter()
    run([nncc, onnx_path, "-o", library] + options)
    return time.perf_counter() - start


def build_driver(work, name, library):
    program = os.path.join(work, name + "_step")
    run(["cc", "-std=c11", "-O2", "-DMODEL_HEADER=\"%s\"" %
         library.replace(".so", ".h"), os.path.join(HERE, "train_step.c"),
         library, "-Wl,-rpath," + work, "-o", program])
    return program


ROUNDS = 5


def export(name, work):
    """Model `name` from its seeds, saved for the PyTorch side, its batch as
    the raw tensors train_step.c reads, and its ONNX export as a user makes
    it. Returns the model, the ONNX path, the data directory, the batch
    size and nncc's options (batch, loss, optimizer)."""
    make, batch_of, kind, options, _, _ = MODELS[name]
    torch.manual_seed(0)
    model = make()
    generator = torch.Generator().manual_seed(1)
    x, y = batch_of(generator)
    torch.save(model, os.path.join(work, name + ".pt"))
    torch.save((x, y), os.path.join(work, name + ".batch.pt"))
    data = os.path.join(work, name + "_data")
    os.makedirs(data, exist_ok=True)
    x.numpy().tofile(os.path.join(data, "input0.bin"))
    y.numpy().tofile(os.path.join(data, "target0.bin"))
    onnx_path = os.path.join(work, name + ".onnx")
    torch.onnx.export(model, (x,), onnx_path, opset_version=17,
                      do_constant_folding=False,
                      training=torch.onnx.TrainingMode.TRAINING,
                      input_names=["x"], output_names=["y"])
    batch = x.shape[0]
    return model, onnx_path, data, batch, ["--batch=%d" % batch,
                                           "--loss=" + kind] + options


def measure(name, nncc, work, threads):
    steps = MODELS[name][5]
    _, onnx_path, data, _, common = export(name, work)
    compiled = {}
    for t in threads:
        library = os.path.join(work, "%s_t%d.so" % (name, t))
        seconds = compile_model(nncc, onnx_path, library,
                                common + (["--threads=%d" % t] if t > 1 else []))
        compiled[t] = (seconds, build_driver(work, "%s_t%d" % (name, t),
                                             library))
    # The thread counts take turns, ROUNDS times, and each keeps its best:
    # a slow spell of a shared machine then falls on both sides of the ratio
    # instead of on whichever ran during it.
    results = {}
    for _ in range(ROUNDS):
        for t, (seconds, program) in compiled.items():
            out = run([program, data, str(max(2, steps // 10)), str(steps)])
            ms = float(re.search(r"ms_per_step (\S+)", out).group(1))
            loss = float(re.search(r"loss (\S+)", out).group(1))
            if t not in results or ms < results[t][1]:
                results[t] = (seconds, ms, loss)
    profile = profile_step(nncc, work, name, onnx_path, data, common, steps)
    out = run([sys.executable, os.path.abspath(__file__), "--torch", name,
               "--work", work, "--steps", str(steps)],
              env=REFERENCE_ENV)
    torch_ms = float(re.search(r"ms_per_step (\S+)", out).group(1))
    torch_loss = float(re.search(r"loss (\S+)", out).group(1))
    return results, torch_ms, torch_loss, profile


def profile_step(nncc, work, name, onnx_path, data, options, steps):
    """The milliseconds per step of each kernel kind of the one-thread
    library compiled with --profile, and its milliseconds per step over the
    same steps."""
    library = os.path.join(work, name + "_profile.so")
    run([nncc, onnx_path, "-o", library, "--profile"] + options)
    program = build_driver(work, name + "_profile", library)
    out = run([program, data, str(max(2, steps // 10)), str(steps)])
    kinds = {kind: float(ms) for kind, ms in
             re.findall(r"kind (\S+) (\S+)", out)}
    return kinds, float(re.search(r"profiled_ms_per_step (\S+)", out).group(1))


def print_profile(name, profile):
    """One line: each kind's share of the step, the largest first, and the
    share spent outside kernels."""
    kinds, ms = profile
    shares = sorted(((t / ms, kind) for kind, t in kinds.items() if t > 0),
                    reverse=True)
    outside = max(0.0, 1 - sum(share for share, _ in shares))
    print("%-12s %s, outside kernels %.0f%%" % (
        "  kernels", ", ".join("%s %.0f%%" % (kind, 100 * share)
                      for share, kind in shares), 100 * outside))


def matmul_gflops(nncc, work, size=512):
    """nncc_forward of one MatMul with a [size, size] weight on a batch of
    size rows: 2 size^3 flops per call."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    weight = numpy_helper.from_array(
        np.random.default_rng(0).random((size, size), dtype=np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul")],
        "matmul", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                 ["N", size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", size])],
        [weight])
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 17)])
    path = os.path.join(work, "matmul.onnx")
    onnx.save(model, path)
    library = os.path.join(work, "matmul.so")
    run([nncc, path, "-o", library, "--batch=%d" % size, "--inference"])
    program = os.path.join(work, "matmul_forward")
    run(["cc", "-std=c11", "-O2", "-DMODEL_HEADER=\"%s\"" %
         library.replace(".so", ".h"), "-DFLOPS=%d" % (2 * size ** 3),
         os.path.join(HERE, "forward_gflops.c"), library,
         "-Wl,-rpath," + work, "-o", program])
    out = run([program])
    return float(re.search(r"gflops (\S+)", out).group(1))


def fma_peak(work):
    program = os.path.join(work, "fma_peak")
    run(["cc", "-O2", "-march=native", os.path.join(HERE, "fma_peak.c"),
         "-o", program])
    out = run([program])
    return (float(re.search(r"peak_gflops (\S+)", out).group(1)),
            int(re.search(r"vector_lanes (\d+)", out).group(1)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nncc", default=os.path.join(ROOT, "build", "bin",
                                                       "nncc"))
    parser.add_argument("--models", default=",".join(MODELS),
                        help="comma-separated subset of " + ",".join(MODELS))
    parser.add_argument("--torch", help=argparse.SUPPRESS)
    parser.add_argument("--blas", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch:
        time_torch(args.torch, args.work, args.steps)
        return
    if args.blas:
        describe_blas()
        return
    blas, sgemm = check_reference_blas()
    print("one thread each unless noted; nncc best of %d alternating rounds "
          "of 3 runs, PyTorch best of 3 runs; PyTorch %s with "
          "OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 "
          "GLIBC_TUNABLES=%s" % (ROUNDS, torch.__version__,
                                 REFERENCE_MALLOC))
    print("PyTorch's BLAS: %s; its 512x512x512 sgemm: %.2f GFLOP/s" % (
        blas, sgemm))
    print("%-12s %9s %12s %12s %8s %10s %10s" % (
        "model", "compile", "nncc ms", "torch ms", "speedup", "nncc loss",
        "torch loss"))
    with tempfile.TemporaryDirectory() as work:
        for name in args.models.split(","):
            threads = [1] if name == "xor" else [1, 2]
            results, torch_ms, torch_loss, profile = measure(
                name, args.nncc, work, threads)
            seconds, ms, loss = results[1]
            print("%-12s %8.2fs %12.4f %12.4f %7.2fx %10.4f %10.4f" % (
                name, seconds, ms, torch_ms, torch_ms / ms, loss, torch_loss))
            if 2 in results:
                print("%-12s %8.2fs %12.4f %12s %7.2fx  (--threads=2 against "
                      "--threads=1)" % (name + " x2", results[2][0],
                                        results[2][1], "", ms / results[2][1]))
            print_profile(name, profile)
        peak, lanes = fma_peak(work)
        gflops = matmul_gflops(args.nncc, work)
        print("matmul 512x512x512: %.2f GFLOP/s; FMA peak %.2f GFLOP/s "
              "(%d-float vectors): %.0f%% of peak" % (gflops, peak, lanes,
                                                      100 * gflops / peak))


if __name__ == "__main__":
    main()
