#!/usr/bin/python3
"""Builds examples/xor: the classic XOR network as an ONNX model, and
PyTorch's losses for training it (the golden that nncc's test checks).

Run with Debian's interpreter, which has python3-torch 1.13 and python3-onnx:
    /usr/bin/python3 examples/xor/generate.py
Writes xor.onnx (fixed initial weights, dynamic batch) and xor.golden (the
loss before each of the 1000 SGD steps, then the final predictions).
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 1000
LR = 0.1


def main():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1), torch.nn.Tanh()
    )
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])

    torch.onnx.export(
        model, (x,), os.path.join(HERE, "xor.onnx"),
        opset_version=14, do_constant_folding=False,
        training=torch.onnx.TrainingMode.TRAINING,
        input_names=["x"], output_names=["y"],
        dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
    )

    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.MSELoss()
    losses = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        predictions = model(x).flatten().tolist()

    with open(os.path.join(HERE, "xor.golden"), "w") as f:
        f.write("# torch %s: loss before each SGD step, then predictions\n" % torch.__version__)
        for loss in losses:
            f.write("%.9g\n" % loss)
        f.write("predictions %s\n" % " ".join("%.9g" % p for p in predictions))
    print("final loss %.6g, predictions %s" % (losses[-1], predictions), file=sys.stderr)


if __name__ == "__main__":
    main()
