//===- Header.cpp - The C header of a generated library ------------------===//
//
// The header is ABI.md's declarations with `nncc`/`NNCC` replaced by the
// library's prefix, so that headers of libraries with different prefixes can
// be included in one program, followed by the model's facts as macros.
//
//===----------------------------------------------------------------------===//

#include "nncc/Target/Header.h"

#include "nncc/Target/ModelInterface.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace nncc;

bool nncc::isValidPrefix(llvm::StringRef prefix) {
  if (prefix.empty() || prefix.size() > 64 || llvm::isDigit(prefix[0]))
    return false;
  return llvm::all_of(prefix, [](char c) { return llvm::isAlnum(c) || c == '_'; });
}

static const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::Float:
    return "float";
  case DType::Int32:
    return "int32";
  case DType::Int64:
    return "int64";
  }
  return "?";
}

/// The ABI declarations, with `nncc` and `NNCC` as placeholders.
static const char *const kDeclarations = R"(
typedef struct nncc_model nncc_model;  /* parameters, optimizer state, workspace */

enum { NNCC_FLOAT = 1, NNCC_INT32 = 6, NNCC_INT64 = 7 };  /* ONNX TensorProto codes */

/* Return codes: 0 is success, every error is negative (see nncc_strerror). */
enum {
@ERROR_CODES@};

typedef struct {
  const char    *name;   /* the ONNX name */
  int32_t        dtype;  /* NNCC_FLOAT, ... */
  int32_t        rank;
  const int64_t *shape;  /* rank entries; dim 0 of inputs/targets/outputs is the batch */
  int64_t        numel;
} nncc_tensor_info;

/* What the model takes and gives; static data, valid without a model. */
int32_t nncc_num_inputs(void);
int32_t nncc_num_targets(void);
int32_t nncc_num_outputs(void);
int32_t nncc_num_params(void);
const nncc_tensor_info *nncc_input_info(int32_t i);   /* NULL when out of range */
const nncc_tensor_info *nncc_target_info(int32_t i);
const nncc_tensor_info *nncc_output_info(int32_t i);
const nncc_tensor_info *nncc_param_info(int32_t i);
int64_t nncc_batch_size(void);
size_t  nncc_workspace_bytes(void);

/* Lifecycle. Parameters start from the ONNX initializers. */
nncc_model *nncc_create(void);            /* NULL when out of memory */
void        nncc_destroy(nncc_model *m);  /* NULL is allowed */

/* One optimizer step on exactly one batch; *loss (if loss is not NULL)
   receives the batch's loss before the update. */
int nncc_train_step(nncc_model *m, const void *const *inputs,
                    const void *const *targets, float *loss);

/* Inference on one batch; no parameter changes. */
int nncc_forward(nncc_model *m, const void *const *inputs, void *const *outputs);

/* The compiled training loop over num_samples samples stacked along dim 0,
   in minibatches of nncc_batch_size(); a final partial batch is trained on
   with its loss averaged over its real samples. progress (may be NULL) is
   called after every report_every steps (0: after each epoch) with the
   sample-weighted mean loss since the previous call; a nonzero return stops
   training. opts may be NULL: no shuffle, report per epoch. */
typedef int (*nncc_progress_fn)(void *user, int64_t epoch, int64_t step, float loss);
typedef struct { int32_t shuffle; uint64_t seed; int64_t report_every; } nncc_train_options;
int nncc_train(nncc_model *m, const void *const *inputs, const void *const *targets,
               int64_t num_samples, int64_t epochs, const nncc_train_options *opts,
               nncc_progress_fn progress, void *user);

/* Hyperparameters that may change between steps. */
int   nncc_set_learning_rate(nncc_model *m, float lr);
float nncc_get_learning_rate(const nncc_model *m);  /* NaN for a NULL model */

/* Parameters by index (see nncc_param_info). numel must match. */
int nncc_get_param(const nncc_model *m, int32_t i, void *dst, int64_t numel);
int nncc_set_param(nncc_model *m, int32_t i, const void *src, int64_t numel);

/* Checkpoints: parameters, optimizer state and step count. save writes
   atomically (a crash leaves the old file intact). load rejects a file of
   another model, a truncated or corrupted file, and then leaves the model
   unchanged. */
int nncc_save(const nncc_model *m, const char *path);
int nncc_load(nncc_model *m, const char *path);

const char *nncc_strerror(int code);

/* Data-parallel training (docs/abi.md). With a collective engine, every
   process holds the whole model and trains on its share of each global
   batch of world_size * nncc_batch_size() samples; the gradients are summed
   across the processes before each update, so that every process computes
   what one process computes on the global batch. Bring your own engine:
   allreduce sums buf across the processes in place, broadcast copies rank
   0's buf to every process (NULL: an allreduce with zeros elsewhere); each
   returns 0 on success. fn NULL: a single process again. */
typedef int (*nncc_collective_fn)(float *buf, size_t n, void *user);
int nncc_set_allreduce(nncc_model *m, nncc_collective_fn fn, void *user);
int nncc_set_broadcast(nncc_model *m, nncc_collective_fn fn, void *user);
int nncc_set_rank(nncc_model *m, int32_t rank, int32_t world_size);  /* needed with fn */
/* Gradients fill buckets of about `first` bytes, then `others` (PyTorch
   DDP's 1 MiB and 25 MiB by default), each summed as soon as it is full;
   the same on every process, before the first training step. */
int nncc_set_bucket_bytes(nncc_model *m, size_t first, size_t others);
int32_t nncc_rank(nncc_model *m);        /* 0 without an engine; negative: error */
int32_t nncc_world_size(nncc_model *m);  /* 1 without an engine; negative: error */
/* Rank 0's parameters, optimizer state and step count to every process
   (also done before the first training step). */
int nncc_broadcast_parameters(nncc_model *m);
)";

/// The MPI interface of a library compiled with --distributed=mpi.
static const char *const kMPIDeclarations = R"(
/* Compiled with --distributed=mpi: the engine is MPI's, on MPI_COMM_WORLD
   unless set here (on every process, after MPI_Init). */
#define NNCC_DISTRIBUTED_MPI 1
int nncc_set_communicator(nncc_model *m, MPI_Comm comm);
)";

/// The kernel timers of a library compiled with --profile.
static const char *const kProfileDeclarations = R"(
/* Kernel timers (compiled with --profile): the wall time and the number of
   calls of the kernels of nncc_forward and nncc_train_step, summed by kind
   since the library was loaded or last reset. The totals belong to the
   library, not to a model: profile one model stepping at a time. */
#define NNCC_PROFILE 1
int32_t     nncc_profile_num_kinds(void);
const char *nncc_profile_kind(int32_t kind);  /* "conv", "gemm", ...; NULL when out of range */
int         nncc_profile_read(int32_t kind, double *seconds, int64_t *calls);
void        nncc_profile_reset(void);
)";

static void describe(llvm::raw_ostream &os, llvm::StringRef what,
                     const std::vector<TensorSpec> &specs) {
  os << " * " << what << ":";
  if (specs.empty())
    os << " none";
  os << "\n";
  for (const TensorSpec &spec : specs) {
    os << " *   " << spec.name << ": " << dtypeName(spec.dtype) << "[";
    llvm::interleave(spec.shape, os, ", ");
    os << "]\n";
  }
}

void nncc::emitHeader(const ModelInterface &iface, llvm::StringRef prefix,
                      llvm::StringRef modelName, llvm::raw_ostream &os) {
  std::string upper = prefix.upper();
  std::string guard = upper + "_TRAINING_LIBRARY_H";

  os << "/* Generated by nncc from " << modelName << "; do not edit.\n *\n";
  describe(os, "Inputs", iface.inputs);
  describe(os, "Targets", iface.targets);
  describe(os, "Outputs", iface.outputs);
  describe(os, "Parameters", iface.params);
  if (iface.trainable)
    os << " * Training: loss " << iface.loss << ", optimizer "
       << iface.optimizer << ", learning rate "
       << llvm::format("%g", iface.learningRate)
       << ", batch " << iface.batchSize << ".\n";
  else
    os << " * Inference only (--inference): the training functions return "
       << upper << "_ERR_NO_TRAINING.\n";
  os << " */\n\n#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#include <stddef.h>\n#include <stdint.h>\n"
     << (iface.distributedMPI ? "#include <mpi.h>\n" : "") << "\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n";

  // The return codes, from the list the runtime support uses too.
  std::string codes;
  llvm::raw_string_ostream codesOS(codes);
#define NNCC_ERROR(NAME, VALUE, MESSAGE)                                       \
  codesOS << "  NNCC_" #NAME " = " #VALUE ",  /* " MESSAGE " */\n";
#include "nncc/Runtime/ErrorCodes.def"
  std::string decls = kDeclarations;
  decls.replace(decls.find("@ERROR_CODES@"), 13, codes);
  if (iface.profiled)
    decls += kProfileDeclarations;
  if (iface.distributedMPI)
    decls += kMPIDeclarations;
  std::string out;
  for (size_t i = 0; i < decls.size();) {
    if (decls.compare(i, 4, "nncc") == 0) {
      out += prefix;
      i += 4;
    } else if (decls.compare(i, 4, "NNCC") == 0) {
      out += upper;
      i += 4;
    } else {
      out += decls[i++];
    }
  }
  os << out << "\n";

  os << "/* The model. */\n";
  os << "#define " << upper << "_BATCH_SIZE " << iface.batchSize << "\n";
  os << "#define " << upper << "_NUM_INPUTS " << iface.inputs.size() << "\n";
  os << "#define " << upper << "_NUM_TARGETS " << iface.targets.size() << "\n";
  os << "#define " << upper << "_NUM_OUTPUTS " << iface.outputs.size() << "\n";
  os << "#define " << upper << "_NUM_PARAMS " << iface.params.size() << "\n";
  os << "#define " << upper << "_WORKSPACE_BYTES " << iface.workspaceBytes
     << "\n";
  os << "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << guard << " */\n";
}
