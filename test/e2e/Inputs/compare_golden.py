#!/usr/bin/env python3
"""Compares a run's per-step losses, predictions and final parameters with a
PyTorch golden.

Both files hold one loss per line and optionally a line 'predictions v1 v2
...' and lines 'param NAME v1 v2 ...'; other lines are ignored. Losses must agree within --rtol
relative error (--rtol-late after --late-from steps); predictions within
--atol. Standard library only: tests must not need torch.
"""
import argparse
import sys


def read(path):
    losses, predictions, params = [], None, {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("predictions"):
                predictions = [float(v) for v in line.split()[1:]]
            elif line.startswith("param "):
                fields = line.split()
                params[fields[1]] = [float(v) for v in fields[2:]]
            else:
                try:
                    losses.append(float(line))
                except ValueError:
                    pass  # Other output of the program.
    return losses, predictions, params


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("golden")
    parser.add_argument("actual")
    parser.add_argument("--rtol", type=float, default=1e-4)
    parser.add_argument("--rtol-late", type=float, default=None)
    parser.add_argument("--late-from", type=int, default=10)
    parser.add_argument("--atol", type=float, default=1e-3)
    parser.add_argument("--param-tol", type=float, default=1e-3,
                        help="error allowed in parameters, relative above 1")
    args = parser.parse_args()
    golden, golden_pred, golden_params = read(args.golden)
    actual, actual_pred, actual_params = read(args.actual)
    if len(golden) != len(actual):
        sys.exit("expected %d losses, got %d" % (len(golden), len(actual)))
    worst = 0.0
    for step, (g, a) in enumerate(zip(golden, actual)):
        rtol = args.rtol
        if args.rtol_late is not None and step >= args.late_from:
            rtol = args.rtol_late
        err = abs(a - g) / max(abs(g), 1e-30)
        worst = max(worst, err)
        if err > rtol:
            sys.exit("step %d: loss %.9g, PyTorch %.9g (relative error %.3g > %g)"
                     % (step, a, g, err, rtol))
    print("%d losses match (worst relative error %.3g)" % (len(golden), worst))
    if golden_pred is not None:
        if actual_pred is None or len(actual_pred) != len(golden_pred):
            sys.exit("predictions missing or of the wrong length")
        worst = 0.0
        for i, (g, a) in enumerate(zip(golden_pred, actual_pred)):
            worst = max(worst, abs(a - g))
            if abs(a - g) > args.atol:
                sys.exit("prediction %d: %.9g, PyTorch %.9g" % (i, a, g))
        if len(actual_pred) <= 8:
            print("predictions match: %s"
                  % " ".join("%.4f" % p for p in actual_pred))
        else:
            print("predictions match: %d values (worst absolute error %.3g)"
                  % (len(actual_pred), worst))
    if golden_params:
        worst = 0.0
        for name, expected in golden_params.items():
            got = actual_params.get(name)
            if got is None or len(got) != len(expected):
                sys.exit("parameter %s missing or of the wrong size" % name)
            for i, (g, a) in enumerate(zip(expected, got)):
                err = abs(a - g) / max(1.0, abs(g))
                worst = max(worst, err)
                if err > args.param_tol:
                    sys.exit("parameter %s[%d]: %.9g, PyTorch %.9g" % (name, i, a, g))
        print("%d parameters match (worst error %.3g)" % (len(golden_params), worst))


if __name__ == "__main__":
    main()
