#!/usr/bin/env python3
"""Compares a run's per-step losses, predictions and final parameters with a
PyTorch golden.

Both files hold one loss per line and optionally a line 'predictions v1 v2
...' and lines 'param NAME v1 v2 ...'; other lines are ignored. For large
models, the golden's 'trained NAME NUMEL SUM_OF_MAGNITUDES i before after
exact ...' lines (some elements of each parameter before training, after,
and after in float64) are checked against the run's 'sample NAME NUMEL
SUM_OF_MAGNITUDES i value ...': each element's update must be PyTorch's
within 1% of the largest sampled update of its tensor, plus ten times the
largest distance of PyTorch's float32 values from float64's (rounding that
a few steps of a deep network amplify). Losses must agree within --rtol
relative error (--rtol-late after --late-from steps); predictions within
--atol. Standard library only: tests must not need torch.
"""
import argparse
import sys


def read(path):
    losses, predictions, params, samples = [], None, {}, {}
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
            elif line.startswith("sample ") or line.startswith("trained "):
                # (index, value) pairs, or (index, before, after) triples.
                fields = line.split()
                width = 2 if fields[0] == "sample" else 4
                values = fields[4:]
                samples[fields[1]] = (
                    int(fields[2]), float(fields[3]),
                    [(int(values[k]),) + tuple(map(float, values[k + 1:k + width]))
                     for k in range(0, len(values), width)])
            else:
                try:
                    losses.append(float(line))
                except ValueError:
                    pass  # Other output of the program.
    return losses, predictions, params, samples


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("golden")
    parser.add_argument("actual")
    parser.add_argument("--rtol", type=float, default=1e-4)
    parser.add_argument("--rtol-late", type=float, default=None)
    parser.add_argument("--late-from", type=int, default=10)
    parser.add_argument("--atol", type=float, default=1e-3)
    parser.add_argument("--relative-predictions", action="store_true",
                        help="--atol scales with the largest prediction (a "
                        "fresh deep network's eval-mode outputs can be tiny)")
    parser.add_argument("--param-tol", type=float, default=1e-3,
                        help="error allowed in parameters, relative above 1")
    args = parser.parse_args()
    golden, golden_pred, golden_params, golden_samples = read(args.golden)
    actual, actual_pred, actual_params, actual_samples = read(args.actual)
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
        allowed = args.atol
        if args.relative_predictions:
            allowed *= max(max(abs(g) for g in golden_pred), 1e-30)
        for i, (g, a) in enumerate(zip(golden_pred, actual_pred)):
            worst = max(worst, abs(a - g))
            if abs(a - g) > allowed:
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
    if golden_samples:
        worst = 0.0
        for name, (numel, magnitudes, pairs) in golden_samples.items():
            got = actual_samples.get(name)
            if got is None or got[0] != numel or len(got[2]) != len(pairs):
                sys.exit("parameter %s missing or of the wrong size" % name)
            err = abs(got[1] - magnitudes) / max(1.0, abs(magnitudes))
            if err > args.param_tol:
                sys.exit("parameter %s: sum of magnitudes %.9g, PyTorch %.9g"
                         % (name, got[1], magnitudes))
            largest = max(abs(after - before) for _, before, after, _ in pairs)
            drift = max(abs(after - exact) for _, _, after, exact in pairs)
            for (i, before, g, _), (j, a) in zip(pairs, got[2]):
                # Relative to the tensor's largest update, with a floor of
                # float32 rounding for the tensors that barely move.
                allowed = 0.01 * largest + 10 * drift + 1e-6 * max(1.0, abs(g))
                worst = max(worst, abs(a - g) / allowed)
                if i != j or abs(a - g) > allowed:
                    sys.exit("parameter %s[%d]: %.9g, PyTorch %.9g (from %.9g)"
                             % (name, i, a, g, before))
        print("%d parameters match (worst error %.3g of the allowed)"
              % (len(golden_samples), worst))


if __name__ == "__main__":
    main()
