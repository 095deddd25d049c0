#!/usr/bin/env python3
"""Compiles, trains and checks one model against its PyTorch golden.

    run_golden.py GOLDEN --work DIR --cc CC [--rtol R --rtol-late R2 --atol A]

The golden's header names the model, the data, the sample and epoch counts
and the nncc options (see test/e2e/models/generate_training.py). The model is
compiled with `nncc` from PATH, trained by Inputs/train_golden.c, and its
per-step losses and final parameters compared by compare_golden.py.
Standard library only, except for a golden whose header names 'weights' (a
model committed without its weights, test/e2e/models/zoo): the model and its
data are then filled in by fill_model.py, which needs numpy and onnx, so run
this script with Debian's python3. 'sampled: K' compares K elements and a
checksum of each parameter instead of all of them, and predictions are
compared relative to the largest.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def header(path):
    fields = {}
    with open(path) as f:
        for line in f:
            if not line.startswith("#"):
                break
            key, _, value = line[1:].strip().partition(":")
            fields[key.strip()] = value.strip()
    samples, _, epochs = fields["samples"].partition("epochs:")
    return fields, int(samples), int(epochs)


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("command failed: %s\n%s%s" % (" ".join(cmd), result.stdout,
                                                result.stderr))
    return result.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("golden")
    parser.add_argument("--work", required=True)
    parser.add_argument("--cc", default="cc")
    parser.add_argument("--rtol", default="1e-4")
    parser.add_argument("--rtol-late", default="1e-3")
    parser.add_argument("--atol", default="1e-3",
                        help="error allowed in the predictions before training")
    args = parser.parse_args()

    fields, samples, epochs = header(args.golden)
    models = os.path.dirname(os.path.abspath(args.golden))
    name = os.path.splitext(os.path.basename(args.golden))[0]
    os.makedirs(args.work, exist_ok=True)
    model = os.path.join(models, fields["model"])
    data = os.path.join(models, fields.get("data", ""))
    if "weights" in fields:
        model = os.path.join(args.work, name + ".onnx")
        data = os.path.join(args.work, name + ".data")
        run([sys.executable, os.path.join(HERE, "fill_model.py"),
             os.path.join(models, fields["model"]),
             os.path.join(models, fields["weights"]), "--onnx", model,
             "--data", data])
    library = os.path.join(args.work, name + ".so")
    run(["nncc", model, "-o", library] + fields["nncc"].split())
    program = os.path.join(args.work, name)
    run([args.cc, "-std=c11", '-DMODEL_HEADER="%s.h"' % name, "-I", args.work,
         os.path.join(HERE, "train_golden.c"), library,
         "-Wl,-rpath," + args.work, "-lm", "-o", program])
    output = run([program, data, str(samples), str(epochs)]
                 + ([fields["sampled"]] if "sampled" in fields else []))
    actual = os.path.join(args.work, name + ".out")
    with open(actual, "w") as f:
        f.write(output)
    print(name + ": " + run([sys.executable, os.path.join(HERE, "compare_golden.py"),
                             args.golden, actual, "--rtol", args.rtol,
                             "--rtol-late", args.rtol_late, "--atol", args.atol]
                            + (["--relative-predictions"] if "weights" in fields
                               else [])).replace("\n", "; "))


if __name__ == "__main__":
    main()
