#!/usr/bin/python3
"""Exports examples/digits/digits_cnn.onnx: a small CNN for the 8x8 digits,
with fixed initial weights and a dynamic batch, in training mode (so batch
norm and dropout behave as in training in nncc's training steps). Run with
Debian's python3-torch:
    /usr/bin/python3 examples/digits/make_model.py
"""
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


class DigitsCNN(torch.nn.Module):
    """[N, 1, 8, 8] grey levels in [0, 1] -> [N, 10] class logits."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = torch.nn.BatchNorm2d(16)
        self.conv2 = torch.nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = torch.nn.BatchNorm2d(32)
        self.dropout = torch.nn.Dropout(0.25)
        self.fc1 = torch.nn.Linear(32 * 2 * 2, 64)
        self.fc2 = torch.nn.Linear(64, 10)

    def forward(self, x):
        h = torch.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        h = torch.max_pool2d(torch.relu(self.bn2(self.conv2(h))), 2)
        h = torch.relu(self.fc1(self.dropout(torch.flatten(h, 1))))
        return self.fc2(h)




def build():
    """The CNN with the initial weights of digits_cnn.onnx."""
    torch.manual_seed(8)
    return DigitsCNN()


if __name__ == "__main__":
    torch.onnx.export(build(), (torch.zeros(4, 1, 8, 8),),
                      os.path.join(HERE, "digits_cnn.onnx"),
                      opset_version=17, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.TRAINING,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}})
