#!/usr/bin/python3
"""Generates the PyTorch-exported models and goldens of test/e2e/models.

Run with Debian's interpreter (python3-torch 1.13, python3-onnx):
    /usr/bin/python3 test/e2e/models/generate.py

For each model and opset it writes NAME.onnx (torch.onnx.export in training
mode, no constant folding, dynamic batch), NAME.data (the training samples:
each input, then the target, as raw little-endian float32, stacked along
dim 0) and NAME.golden: PyTorch's loss at every step of EPOCHS epochs over
the samples in order, in minibatches of BATCH with a final partial batch
(DataLoader(drop_last=False)), then the parameters after training.
"""
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = 10
BATCH = 4
EPOCHS = 7  # 3 steps per epoch: 21 steps
LR = 0.05


class MLP(torch.nn.Module):
    """Linear layers with ReLU and sigmoid: exports as Gemm."""

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(8, 16)
        self.fc2 = torch.nn.Linear(16, 8)
        self.fc3 = torch.nn.Linear(8, 3)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        h = torch.sigmoid(self.fc2(h))
        return self.fc3(h)


class SequenceMLP(torch.nn.Module):
    """Linear layers on [N, T, D] inputs: exports as MatMul + Add."""

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(6, 12)
        self.fc2 = torch.nn.Linear(12, 2)

    def forward(self, x):
        h = torch.tanh(self.fc1(x))
        return self.fc2(h) * 0.5 - h.sum(dim=-1, keepdim=True) / 12.0


class CNN(torch.nn.Module):
    """Two conv + max-pool stages, then a linear layer: Conv, Relu,
    MaxPool, Flatten, Gemm."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(4, 6, 3)
        self.fc = torch.nn.Linear(6, 3)

    def forward(self, x):
        h = torch.nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        h = torch.nn.functional.max_pool2d(torch.relu(self.conv2(h)), 2)
        return self.fc(torch.flatten(h, 1))


class Attention(torch.nn.Module):
    """A pre-norm transformer block on [N, T, D] features: layer norm, causal
    two-head self-attention from MatMul, Softmax and a tril mask with
    masked_fill, GELU MLP, residuals. Shapes come from x.shape, so the export
    has Shape/Gather/Concat subgraphs that nncc folds."""

    def __init__(self, dim=8, heads=2):
        super().__init__()
        self.heads = heads
        self.ln1 = torch.nn.LayerNorm(dim)
        self.qkv = torch.nn.Linear(dim, 3 * dim)
        self.proj = torch.nn.Linear(dim, dim)
        self.ln2 = torch.nn.LayerNorm(dim)
        self.fc1 = torch.nn.Linear(dim, 2 * dim)
        self.fc2 = torch.nn.Linear(2 * dim, dim)
        self.out = torch.nn.Linear(dim, 2)

    def forward(self, x):
        n, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q = q.reshape(n, t, self.heads, d // self.heads).transpose(1, 2)
        k = k.reshape(n, t, self.heads, d // self.heads).transpose(1, 2)
        v = v.reshape(n, t, self.heads, d // self.heads).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / (d // self.heads) ** 0.5
        mask = torch.tril(torch.ones(t, t))
        scores = scores.masked_fill(mask == 0, float("-inf"))
        a = torch.softmax(scores, dim=-1) @ v
        x = x + self.proj(a.transpose(1, 2).reshape(n, t, d))
        x = x + self.fc2(torch.nn.functional.gelu(self.fc1(self.ln2(x))))
        return self.out(x)


def generate(name, model, x, y, opset):
    path = os.path.join(HERE, name)
    torch.onnx.export(
        model, (x[:BATCH],), path + ".onnx",
        opset_version=opset, do_constant_folding=False,
        training=torch.onnx.TrainingMode.TRAINING,
        input_names=["x"], output_names=["y"],
        dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
    )
    with open(path + ".data", "wb") as f:
        f.write(x.numpy().astype("<f4").tobytes())
        f.write(y.numpy().astype("<f4").tobytes())

    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.MSELoss()
    losses = []
    for _ in range(EPOCHS):
        for first in range(0, SAMPLES, BATCH):
            xb, yb = x[first:first + BATCH], y[first:first + BATCH]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with open(path + ".golden", "w") as f:
        f.write("# torch %s, opset %d: loss of each step, then parameters\n"
                % (torch.__version__, opset))
        for loss in losses:
            f.write("%.9g\n" % loss)
        for pname, p in model.named_parameters():
            values = " ".join("%.9g" % v for v in p.detach().flatten().tolist())
            f.write("param %s %s\n" % (pname, values))


def main():
    for opset in (13, 14, 15, 16, 17):
        torch.manual_seed(opset)
        x = torch.randn(SAMPLES, 8)
        y = torch.randn(SAMPLES, 3)
        generate("mlp_opset%d" % opset, MLP(), x, y, opset)
    for opset in (14, 17):
        torch.manual_seed(100 + opset)
        x = torch.randn(SAMPLES, 5, 6)
        y = torch.randn(SAMPLES, 5, 2)
        generate("seq_mlp_opset%d" % opset, SequenceMLP(), x, y, opset)
    for opset in (14, 17):
        torch.manual_seed(200 + opset)
        x = torch.randn(SAMPLES, 1, 8, 8)
        y = torch.randn(SAMPLES, 3)
        generate("cnn_opset%d" % opset, CNN(), x, y, opset)
    for opset in (14, 17):
        torch.manual_seed(300 + opset)
        x = torch.randn(SAMPLES, 5, 8)
        y = torch.randn(SAMPLES, 5, 2)
        generate("attention_opset%d" % opset, Attention(), x, y, opset)


if __name__ == "__main__":
    main()
