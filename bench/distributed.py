#!/usr/bin/env python3
"""Data-parallel training on MPI: for the MLP and the transformer of
train_speed.py, nncc's steps per second at 1, 2 and 4 processes on this
host (mpirun --oversubscribe; this machine has os.cpu_count() cores), each
process on its own batch of the model's size (weak scaling: the global
batch grows with the processes), and the share of a step spent on
communication (copying gradients into buckets, summing them, waiting):
1 - the step time of the same processes stepping alone at the same time /
their data-parallel step time.

    /usr/bin/python3 bench/distributed.py [--models mlp,transformer]

Needs what bench/setup.sh installs (python3-torch to export the models) and
OpenMPI (scripts/setup.sh).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train_speed  # noqa: E402

PROCESSES = [1, 2, 4]
MPI_ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def prepare(name, work, nncc):
    """Exports the model and its batch as train_speed.py does, and compiles
    the --distributed=mpi library and the driver."""
    steps = train_speed.MODELS[name][5]
    model, onnx_path, data, batch, options = train_speed.export(name, work)
    library = os.path.join(work, name + ".so")
    train_speed.run([nncc, onnx_path, "-o", library, "--distributed=mpi"] +
                    options)
    program = os.path.join(work, name + "_dp")
    train_speed.run(["mpicc", "-std=c11", "-O2",
                     "-DMODEL_HEADER=\"%s\"" % library.replace(".so", ".h"),
                     os.path.join(HERE, "distributed_step.c"), library,
                     "-Wl,-rpath," + work, "-o", program])
    params = sum(p.numel() for p in model.parameters())
    return program, data, batch, steps, params


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nncc", default=os.path.join(train_speed.ROOT,
                                                       "build", "bin", "nncc"))
    parser.add_argument("--models", default="mlp,transformer")
    args = parser.parse_args()
    print("OpenMPI %s, %d cores; per-process batch fixed; best of 3 runs" % (
        subprocess.run(["mpirun", "--version"], capture_output=True,
                       text=True).stdout.split("\n")[0].split()[-1],
        os.cpu_count()))
    print("%-12s %5s %10s %10s %12s %10s %10s" % (
        "model", "procs", "ms/step", "steps/s", "samples/s", "comm share",
        "loss"))
    with tempfile.TemporaryDirectory() as work:
        for name in args.models.split(","):
            program, data, batch, steps, params = prepare(name, work, args.nncc)
            for n in PROCESSES:
                cmd = ["mpirun", "-np", str(n)]
                if n > os.cpu_count():
                    cmd.append("--oversubscribe")
                out = train_speed.run(
                    cmd + [program, data, str(max(2, steps // 5)), str(steps)],
                    env=MPI_ENV)
                ms = float(re.search(r"ms_per_step (\S+)", out).group(1))
                alone = float(re.search(r"ms_per_step_alone (\S+)",
                                        out).group(1))
                loss = float(re.search(r"loss (\S+)", out).group(1))
                share = max(0.0, 1.0 - alone / ms)
                print("%-12s %5d %10.3f %10.1f %12.0f %9.1f%% %10.4f" % (
                    name if n == 1 else "", n, ms, 1e3 / ms,
                    1e3 * n * batch / ms, 100 * share, loss))
            print("%-12s %d parameters, %.1f MiB of gradients summed per "
                  "step" % ("", params, params * 4 / 2**20))


if __name__ == "__main__":
    main()
