#!/usr/bin/python3
"""Loads an exported model's initializers into the PyTorch module it came
from, by name, and checks that the module (eval mode) gives the outputs that
export_roundtrip.c wrote for the same generated batch, within 1e-6.

    export_to_torch.py MAKE_MODEL.py TRAINED.onnx FORWARD.bin D0 D1 ...

MAKE_MODEL.py defines build() (the module); D0 D1 ... is the input's shape.
Needs python3-torch; run by test/e2e/export_torch.test where it is installed.
"""
import importlib.util
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper


def xorshift_uniform(state, count):
    """export_roundtrip.c's generator: `count` uniforms in [0, 1)."""
    mask = (1 << 64) - 1
    out = np.empty(count)
    for i in range(count):
        state ^= (state << 13) & mask
        state ^= state >> 7
        state ^= (state << 17) & mask
        out[i] = (state >> 11) / 9007199254740992.0
    return out


def main():
    make_model, trained, forward = sys.argv[1:4]
    shape = [int(d) for d in sys.argv[4:]]
    spec = importlib.util.spec_from_file_location("make_model", make_model)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.build()

    tensors = {t.name: numpy_helper.to_array(t)
               for t in onnx.load(trained).graph.initializer}
    state = net.state_dict()
    missing = [k for k in state
               if k not in tensors and not k.endswith("num_batches_tracked")]
    if missing:
        sys.exit("not in the exported model: " + ", ".join(missing))
    net.load_state_dict({k: torch.from_numpy(np.array(tensors[k]))
                         for k in state if k in tensors}, strict=False)
    net.eval()

    count = int(np.prod(shape))
    x = (2 * xorshift_uniform(1234567, count) - 1).astype(np.float32)
    with torch.no_grad():
        y = net(torch.from_numpy(x.reshape(shape))).numpy().ravel()
    expected = np.fromfile(forward, dtype=np.float32)
    if expected.size != y.size:
        sys.exit("%d outputs, expected %d" % (y.size, expected.size))
    diff = float(np.abs(y - expected).max())
    print("loaded %d tensors by name; max abs difference %.3g" %
          (len(state) - sum(k.endswith("num_batches_tracked") for k in state),
           diff))
    if diff > 1e-6:
        sys.exit("PyTorch's outputs differ from nncc's by %.3g" % diff)
    print("PyTorch matches nncc")


if __name__ == "__main__":
    main()
