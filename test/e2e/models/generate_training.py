#!/usr/bin/python3
"""Generates the goldens of every loss and optimizer (test/e2e/training.test).

Run with Debian's interpreter (python3-torch 1.13, python3-onnx):
    /usr/bin/python3 test/e2e/models/generate_training.py

Each golden NAME.golden starts with the lines the test runner reads:
    # model: FILE.onnx      the model nncc compiles (exported here or by
                            generate.py), with PyTorch's initial weights
    # data: FILE.data       inputs then targets, stacked along dim 0
    # samples: N  epochs: E
    # nncc: OPTIONS         the nncc options of this loss and optimizer
then PyTorch's loss at every step (minibatches of 4 in order, a final
partial batch averaged over its real samples), then the parameters after
training.
"""
import os

import numpy as np
import onnx
import onnx.numpy_helper
import torch

from generate import MLP  # the model of mlp_opset14.onnx

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = 4


class SequenceClassifier(torch.nn.Module):
    """Logits [N, T, 4] for cross-entropy over the last axis."""

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(6, 12)
        self.fc2 = torch.nn.Linear(12, 4)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


class OwnLoss(torch.nn.Module):
    """A model whose output is its own scalar loss (--loss=none)."""

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(8, 5)
        self.fc2 = torch.nn.Linear(5, 2)

    def forward(self, x):
        y = self.fc2(torch.tanh(self.fc1(x)))
        return (y * y).sum() * 0.125


def load_onnx_weights(model, path):
    weights = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy())
               for t in onnx.load(path).graph.initializer}
    model.load_state_dict({k: weights[k] for k in model.state_dict()})


def export(model, x, name):
    torch.onnx.export(
        model, (x[:BATCH],), os.path.join(HERE, name + ".onnx"),
        opset_version=14, do_constant_folding=False,
        training=torch.onnx.TrainingMode.TRAINING,
        input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "N"}})


def write_data(name, x, y):
    with open(os.path.join(HERE, name + ".data"), "wb") as f:
        f.write(x.numpy().astype("<f4").tobytes())
        if y is not None:
            dtype = "<i8" if y.dtype == torch.int64 else "<f4"
            f.write(y.numpy().astype(dtype).tobytes())


def train(name, model, x, y, loss_fn, make_optimizer, epochs, model_file,
          data_file, options):
    optimizer = make_optimizer(model.parameters())
    samples = x.shape[0]
    losses = []
    for _ in range(epochs):
        for first in range(0, samples, BATCH):
            optimizer.zero_grad()
            out = model(x[first:first + BATCH])
            loss = out if y is None else loss_fn(out, y[first:first + BATCH])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with open(os.path.join(HERE, name + ".golden"), "w") as f:
        f.write("# model: %s\n# data: %s\n# samples: %d epochs: %d\n"
                % (model_file, data_file, samples, epochs))
        f.write("# nncc: --batch=%d %s\n" % (BATCH, options))
        f.write("# torch %s\n" % torch.__version__)
        for loss in losses:
            f.write("%.9g\n" % loss)
        for pname, p in model.named_parameters():
            values = " ".join("%.9g" % v for v in p.detach().flatten().tolist())
            f.write("param %s %s\n" % (pname, values))


def main():
    # Optimizers, on the MLP of mlp_opset14 and its data, with MSE.
    mlp_file = os.path.join(HERE, "mlp_opset14.onnx")
    raw = np.fromfile(os.path.join(HERE, "mlp_opset14.data"), dtype="<f4")
    x = torch.from_numpy(raw[:80].reshape(10, 8).copy())
    y = torch.from_numpy(raw[80:].reshape(10, 3).copy())
    optimizers = {
        "sgd_momentum": ("--momentum=0.9 --lr=0.05",
                         lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
        "sgd_dampening_wd": ("--momentum=0.9 --dampening=0.1 --weight-decay=0.01 --lr=0.05",
                             lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9,
                                                       dampening=0.1, weight_decay=0.01)),
        "sgd_nesterov": ("--momentum=0.8 --nesterov --weight-decay=0.001 --lr=0.05",
                         lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8,
                                                   nesterov=True, weight_decay=0.001)),
        "adam": ("--optimizer=adam --lr=0.01",
                 lambda p: torch.optim.Adam(p, lr=0.01)),
        "adam_wd_amsgrad": ("--optimizer=adam --lr=0.01 --weight-decay=0.01 --amsgrad",
                            lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.01,
                                                       amsgrad=True)),
        "adamw": ("--optimizer=adamw --lr=0.01",
                  lambda p: torch.optim.AdamW(p, lr=0.01)),
        "adamw_options": ("--optimizer=adamw --lr=0.01 --beta1=0.8 --beta2=0.99 --eps=1e-6 --weight-decay=0.1",
                          lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.8, 0.99),
                                                      eps=1e-6, weight_decay=0.1)),
        "adagrad": ("--optimizer=adagrad --lr=0.1",
                    lambda p: torch.optim.Adagrad(p, lr=0.1)),
        "adagrad_options": ("--optimizer=adagrad --lr=0.1 --weight-decay=0.01 --lr-decay=0.01 --eps=1e-8",
                            lambda p: torch.optim.Adagrad(p, lr=0.1, weight_decay=0.01,
                                                          lr_decay=0.01, eps=1e-8)),
    }
    for name, (options, make) in optimizers.items():
        model = MLP()
        load_onnx_weights(model, mlp_file)
        train("opt_" + name, model, x, y, torch.nn.MSELoss(), make, 4,
              "mlp_opset14.onnx", "mlp_opset14.data", options)

    # Frozen parameters keep their values and take no optimizer state.
    model = MLP()
    load_onnx_weights(model, mlp_file)
    for pname, p in model.named_parameters():
        p.requires_grad_(pname not in ("fc1.weight", "fc2.bias"))
    train("opt_adam_frozen", model, x, y, torch.nn.MSELoss(),
          lambda ps: torch.optim.Adam([p for p in ps if p.requires_grad], lr=0.01),
          4, "mlp_opset14.onnx", "mlp_opset14.data",
          "--optimizer=adam --lr=0.01 --freeze=fc1.weight,fc2.bias")

    # Cross-entropy on the same MLP (3 classes) with class targets.
    torch.manual_seed(1)
    classes = torch.randint(0, 3, (10,))
    write_data("ce_classes", x, classes)
    for name, options, loss_fn in [
        ("loss_ce", "--loss=cross-entropy --lr=0.1", torch.nn.CrossEntropyLoss()),
        ("loss_ce_ignore_smooth",
         "--loss=cross-entropy --ignore-index=1 --label-smoothing=0.1 --lr=0.1",
         torch.nn.CrossEntropyLoss(ignore_index=1, label_smoothing=0.1)),
    ]:
        model = MLP()
        load_onnx_weights(model, mlp_file)
        train(name, model, x, classes, loss_fn,
              lambda p: torch.optim.SGD(p, lr=0.1), 4, "mlp_opset14.onnx",
              "ce_classes.data", options)

    # BCE with logits, with AdamW.
    torch.manual_seed(2)
    bits = torch.randint(0, 2, (10, 3)).float()
    write_data("bce_bits", x, bits)
    model = MLP()
    load_onnx_weights(model, mlp_file)
    train("loss_bce", model, x, bits, torch.nn.BCEWithLogitsLoss(),
          lambda p: torch.optim.AdamW(p, lr=0.01), 4, "mlp_opset14.onnx",
          "bce_bits.data", "--loss=bce --optimizer=adamw --lr=0.01")

    # Cross-entropy over a sequence: [N, T, C] logits, [N, T] targets.
    torch.manual_seed(3)
    model = SequenceClassifier()
    xs = torch.randn(10, 5, 6)
    ts = torch.randint(0, 4, (10, 5))
    export(model, xs, "seq_classifier")
    write_data("seq_classifier", xs, ts)
    # torch wants classes on dim 1; a language model flattens the positions.
    flat_ce = lambda out, t: torch.nn.functional.cross_entropy(
        out.reshape(-1, out.shape[-1]), t.reshape(-1))
    train("loss_ce_sequence", model, xs, ts, flat_ce,
          lambda p: torch.optim.Adam(p, lr=0.01), 4, "seq_classifier.onnx",
          "seq_classifier.data", "--loss=cross-entropy --optimizer=adam --lr=0.01")

    # The model's own loss (--loss=none), on full batches only: the model
    # sums over its whole batch, padding included.
    torch.manual_seed(4)
    model = OwnLoss()
    xo = torch.randn(12, 8)
    export(model, xo, "own_loss")
    write_data("own_loss", xo, None)
    train("loss_none", model, xo, None, None,
          lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.5), 4,
          "own_loss.onnx", "own_loss.data", "--loss=none --momentum=0.5 --lr=0.05")


if __name__ == "__main__":
    main()
