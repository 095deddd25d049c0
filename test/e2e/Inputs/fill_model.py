#!/usr/bin/python3
"""Fills a model's weights and training data from a recipe, deterministically.

    fill_model.py GRAPH.onnx RECIPE.json --onnx OUT.onnx --data OUT.data

The torchvision-sized models of test/e2e/models/zoo are committed without
their weights (resnet18 alone holds 45 MB of them): GRAPH.onnx is the model
exactly as torch.onnx.export wrote it, except that the float initializers
named in the recipe have no data. The recipe gives each of them a value, a
constant or uniform numbers in [-bound, bound), and gives the shapes of the
training samples: float inputs uniform in [-1, 1), class targets in
[0, classes). The numbers come from a counter-based generator (splitmix64 of
a seed taken from the tensor's name, and the element's index), so the
generator of the goldens (models/generate_zoo.py, which imports this file)
and the test compute the same float32 values bit for bit, with numpy only.

Needs python3-numpy and python3-onnx (Debian), not torch.
"""
import argparse
import json
import sys
import zlib

import numpy as np
import onnx
import onnx.numpy_helper

MASK = (1 << 64) - 1


def splitmix64(counters):
    """splitmix64's output function on uint64 counters (wrapping)."""
    with np.errstate(over="ignore"):
        z = counters + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def stream(key, count):
    """count uint64 numbers for the string key."""
    seed = (zlib.crc32(key.encode()) * 0x100000001B3) & MASK
    counters = np.arange(count, dtype=np.uint64) + np.uint64(seed << 20 & MASK)
    return splitmix64(counters)


def uniform(key, shape, bound):
    """float32 numbers in [-bound, bound): 24 random bits each, so that the
    values in [-1, 1) are exact in float32 before the scaling."""
    count = int(np.prod(shape, dtype=np.int64))
    bits = (stream(key, count) >> np.uint64(40)).astype(np.float64)
    unit = (bits / float(1 << 23) - 1.0).astype(np.float32)
    return (unit * np.float32(bound)).reshape(shape)


def classes(key, shape, count):
    """int64 class indices in [0, count)."""
    total = int(np.prod(shape, dtype=np.int64))
    return (stream(key, total) % np.uint64(count)).astype(np.int64).reshape(shape)


def value(name, spec, shape):
    """The initializer's value from its recipe entry."""
    kind = spec[0]
    if kind == "constant":
        return np.full(shape, spec[1], dtype=np.float32)
    if kind == "uniform":
        return uniform(name, shape, spec[1])
    raise SystemExit("recipe: unknown kind '%s' for '%s'" % (kind, name))


def fill(model, recipe):
    """Gives every initializer the recipe names its value, in place."""
    specs = recipe["initializers"]
    seen = set()
    for tensor in model.graph.initializer:
        if tensor.name not in specs:
            continue
        seen.add(tensor.name)
        array = value(tensor.name, specs[tensor.name], tuple(tensor.dims))
        tensor.CopyFrom(onnx.numpy_helper.from_array(array, tensor.name))
    missing = sorted(set(specs) - seen)
    if missing:
        raise SystemExit("recipe names initializers the model lacks: %s"
                         % ", ".join(missing))


def samples(recipe):
    """The training data: each input, then each target, in order."""
    arrays = []
    for spec in recipe["inputs"]:
        # Token ids of an embedding when the input names its vocabulary.
        if "classes" in spec:
            arrays.append(classes("input " + spec["name"], spec["shape"],
                                  spec["classes"]))
        else:
            arrays.append(uniform("input " + spec["name"], spec["shape"], 1.0))
    for spec in recipe["targets"]:
        arrays.append(classes("target " + spec["name"], spec["shape"],
                              spec["classes"]))
    return arrays


def write_data(path, arrays):
    with open(path, "wb") as f:
        for array in arrays:
            dtype = "<i8" if array.dtype == np.int64 else "<f4"
            f.write(array.astype(dtype).tobytes())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("graph")
    parser.add_argument("recipe")
    parser.add_argument("--onnx", required=True)
    parser.add_argument("--data", required=True)
    args = parser.parse_args()
    with open(args.recipe) as f:
        recipe = json.load(f)
    model = onnx.load(args.graph)
    fill(model, recipe)
    onnx.save(model, args.onnx)
    write_data(args.data, samples(recipe))


if __name__ == "__main__":
    sys.exit(main())
