#!/usr/bin/python3
"""Exports examples/embed/iris_mlp.onnx: a 4-16-3 MLP for the iris data, with
fixed initial weights and a dynamic batch. Run with Debian's python3-torch:
    /usr/bin/python3 examples/embed/make_model.py
"""
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))



def build():
    """The MLP with the initial weights of iris_mlp.onnx."""
    torch.manual_seed(7)
    return torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(),
                               torch.nn.Linear(16, 3))


if __name__ == "__main__":
    torch.onnx.export(build(), (torch.zeros(8, 4),),
                      os.path.join(HERE, "iris_mlp.onnx"),
                      opset_version=14, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.TRAINING,
                      input_names=["measurements"], output_names=["logits"],
                      dynamic_axes={"measurements": {0: "N"},
                                    "logits": {0: "N"}})
