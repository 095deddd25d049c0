# -*- Python -*-
# lit configuration of nncc's regression tests.

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "nncc"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtxt", ".pbtxt", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.nncc_obj_root, "test")

# nncc's tools first, then FileCheck, not, split-file from LLVM.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.nncc_tools_dir, append_path=True)
llvm_config.use_default_substitutions()

config.substitutions.append(("%nncc_src", config.nncc_src_root))
config.substitutions.append(("%cc", config.c_compiler))
config.substitutions.append(("%nncc_tools", config.nncc_tools_dir))
config.substitutions.append(("%nncc_build", config.nncc_obj_root))
# Data-parallel tests start their ranks with OpenMPI's mpirun, which refuses
# to run as root (as tests and CI do) without these two variables.
config.substitutions.append(
    ("%mpirun", "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
     "mpirun"))
config.substitutions.append(("%mpicc", "mpicc"))
# Helper scripts use the standard library only.
config.substitutions.append(("%python", "python3"))

# Scripts that read ONNX tensors need Debian's python3-onnx and python3-numpy,
# which belong to /usr/bin/python3 (another python3 may come first on PATH).
config.substitutions.append(("%debian_python", "/usr/bin/python3"))
# nncc built with ASan + UBSan (scripts/sanitize.sh) compiles several times
# slower: the torchvision-sized goldens run in the normal build only.
if getattr(config, "nncc_sanitized", False):
    config.available_features.add("sanitized")
# Debian's python3-torch (the benchmark and golden environment; tests that
# need it are skipped elsewhere).
if os.path.isdir("/usr/lib/python3/dist-packages/torch"):
    config.available_features.add("torch")
if os.path.isdir("/usr/lib/python3/dist-packages/matplotlib"):
    config.available_features.add("matplotlib")
if os.path.isdir("/usr/share/libonnx-testdata/data/node"):
    config.available_features.add("onnx-testdata")
