//===- Passes.td - Transformations of the nn dialect -------*- tablegen -*-===//

#ifndef NNCC_DIALECT_NN_TRANSFORMS_PASSES_TD
#define NNCC_DIALECT_NN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def NNBuildTraining : Pass<"nn-build-training", "mlir::ModuleOp"> {
  let summary = "Build @train_step from @forward: loss, autodiff, optimizer";
  let description = [{
    Builds the function that runs one optimizer step from the module's
    `@forward` function:

    1. the forward computation, cloned;
    2. the loss of the chosen output against a new target argument, averaged
       over the first `count` samples of the batch (the rest is padding of a
       partial batch);
    3. the reverse-mode gradient of the loss with respect to every parameter,
       built from each op's `GradientOpInterface` in reverse topological order
       (gradients of values with several uses are summed, broadcast operands
       are reduced back to their shape, only values that depend on a
       parameter are differentiated);
    4. the optimizer update of every parameter that is not frozen, after all
       gradients, so the updates may overwrite parameters in place.

    The result is
    `@train_step(inputs..., targets..., count, hyper, params..., states...)
        -> (loss, params..., states...)`
    with each argument and result tagged by an `nn.role` attribute: `count`
    is the number of real samples in the batch, `hyper` the per-step
    hyperparameters (see HyperSlot), `states` the optimizer state of every
    parameter, in the order of the parameters.
  }];
  let options = [
    Option<"loss", "loss", "std::string", /*default=*/"\"mse\"",
           "The loss: mse, cross-entropy, bce or none">,
    Option<"ignoreIndex", "ignore-index", "int64_t", /*default=*/"-100",
           "cross-entropy: the target class left out of the mean">,
    Option<"labelSmoothing", "label-smoothing", "double", /*default=*/"0.0",
           "cross-entropy: label smoothing">,
    Option<"optimizer", "optimizer", "std::string", /*default=*/"\"sgd\"",
           "The optimizer: sgd, adam, adamw or adagrad">,
    Option<"learningRate", "lr", "double", /*default=*/"-1.0",
           "The initial learning rate (default 0.001 for adam and adamw, "
           "0.01 otherwise)">,
    Option<"momentum", "momentum", "double", /*default=*/"0.0", "SGD momentum">,
    Option<"dampening", "dampening", "double", /*default=*/"0.0",
           "SGD dampening">,
    Option<"nesterov", "nesterov", "bool", /*default=*/"false",
           "SGD Nesterov momentum">,
    Option<"beta1", "beta1", "double", /*default=*/"0.9", "Adam beta1">,
    Option<"beta2", "beta2", "double", /*default=*/"0.999", "Adam beta2">,
    Option<"eps", "eps", "double", /*default=*/"-1.0",
           "Adam/Adagrad epsilon (negative: the optimizer's default)">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"-1.0",
           "Weight decay (negative: the optimizer's default)">,
    Option<"amsgrad", "amsgrad", "bool", /*default=*/"false", "Adam AMSGrad">,
    Option<"lrDecay", "lr-decay", "double", /*default=*/"0.0",
           "Adagrad learning-rate decay">,
    Option<"lossOutput", "loss-output", "unsigned", /*default=*/"0",
           "Index of the @forward result the loss is computed on">,
    ListOption<"frozen", "freeze", "std::string",
               "Parameters that stay fixed">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def NNSpecializeInference : Pass<"nn-specialize-inference", "mlir::ModuleOp"> {
  let summary = "Make @forward compute as in inference";
  let description = [{
    `nncc_forward` runs the model in inference mode (dropout off, batch
    normalization on its running statistics). In `@forward`, every
    `nn.training_select` becomes its inference value and every
    `nn.running_update` is erased: inference changes no model state. Runs
    after nn-build-training, which clones `@forward` with the training
    behaviour into `@train_step`.
  }];
}

def NNFuse : Pass<"nn-fuse", "mlir::func::FuncOp"> {
  let summary = "Decide which nn ops run as one kernel";
  let description = [{
    Groups each elementwise op (arithmetic, activations and their gradients,
    select) with the elementwise ops that produce its operands over the same
    iteration space, and each `reduce_sum` (bias gradients, means, the
    statistics of normalizations) with its elementwise prologue, so that a
    chain such as a bias add, an activation and a residual add, or an
    activation's gradient and the product with the incoming gradient, is one
    loop. A producer joins the group of its first user only; when later ops
    read its result too (a forward value the backward pass needs), the fused
    kernel also stores it: it is kept, not recomputed. A producer over a
    smaller (broadcast) space is not fused, since it would be recomputed for
    every element. Ops of a group carry the same `nn.fusion_group`;
    convert-nn-to-linalg passes it to the generics it builds and
    nn-fuse-kernels merges them.
  }];
}

def NNFuseKernels : Pass<"nn-fuse-kernels", "mlir::func::FuncOp"> {
  let summary = "Merge the linalg.generic ops of each nn fusion group";
  let description = [{
    After convert-nn-to-linalg, on tensors: a `linalg.generic` producer and
    a consumer with the same `nn.fusion_group` become one generic whose body
    computes both; a producer result that later ops read is a result of the
    fused generic too. Each generic reads a value (at one indexing map)
    through one input, and its body computes each subexpression once, so
    that a group's body is as large as its graph.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def NNPrepareBufferization
    : Pass<"nn-prepare-bufferization", "mlir::func::FuncOp"> {
  let summary = "Set the library's calling convention up for bufferization";
  let description = [{
    Runs on tensors, right before one-shot bufferization:

    - Marks every argument `bufferization.writable = false`. The generated
      library's callers pass their data as `const` pointers, and parameters
      are updated through the function's results (which the library points
      at the parameters' own storage), so no argument buffer may be written.
    - Returns a copy of every argument that the function returns as it is
      (an Identity model, a parameter as output), so that every result is a
      new buffer that can become an out-parameter.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def NNPromoteAccumulators
    : Pass<"nn-promote-accumulators", "mlir::func::FuncOp"> {
  let summary = "Keep loop-invariant operands and accumulators in registers";
  let description = [{
    Runs on loops of a planned function, where LLVM cannot tell the arena's
    buffers apart and this pass can: two views of the arena at disjoint
    byte ranges, or the arena and another of the function's buffers, share
    no byte.

    An `scf.parallel` whose body loads elements that do not depend on its
    last dimension (a broadcast operand: a softmax's row sums, a layer
    norm's statistics), from memory that none of its stores can reach, while
    nothing else in it has memory effects, has that dimension split off
    into a loop of its own, with those loads before it: once per row
    instead of once per element, and the row vectorizes.

    In an `scf.for` whose body loads and later stores one element of a
    buffer (indices defined outside the loop), while every other access of
    the loop is provably to other memory and nothing else in it has memory
    effects, the element becomes a value the loop carries: loaded once
    before it, stored once after it. Loops are visited from the inside out,
    so a reduction's accumulator rises through every loop it does not
    depend on.

    A sum so carried that starts from its first term (convert-nn-to-
    linalg's `select(first, x, acc + x)`, `first` at the first index of
    every loop that carries it and of loops outside them) then starts from
    -0.0, which adds to any x as x: its initial value is -0.0 where those
    outer terms hold, and each iteration is a plain add. Its innermost loop,
    if it has at least 16 iterations, is then split into 8 partial sums
    written out (8 iterations at a time, one per lane, the lanes added
    pairwise in a fixed order, the rest in order), which vectorize; the
    result does not depend on how LLVM vectorizes, nor on the threads.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def NNOutlineParallelLoops
    : Pass<"nn-outline-parallel-loops", "mlir::ModuleOp"> {
  let summary = "Run large parallel loop nests on the library's threads, "
                "and every loop nest in a function of its own";
  let description = [{
    Runs on loops (after convert-linalg-to-parallel-loops). When the module's
    `nn.threads` is above 1, each loop nest in a function's entry block that
    is an `scf.parallel`, or a chain of `scf.for` loops (a reduction outside
    a parallel dimension) around one, whose first parallel dimension runs
    from 0 by 1, and that does enough work, moves into a function of its
    own, `<function>_par<N>(values..., begin, end)`, that runs the nest with
    that dimension in [begin, end). The values it reads from outside are passed to it:
    statically shaped memrefs of identity layout and scalars; constants and
    views (of the arena, reshapes) are recomputed inside. The loop is
    replaced by a call of `<function>_par<N>_dispatch(values..., count)`,
    a declaration that nn-lower-parallel-dispatch defines once the module is
    in the LLVM dialect. Iterations of a parallel dimension are independent,
    so any split gives the same result bit for bit.

    The other nests of that form (all of them on one thread) move into
    functions too, `<function>_nest<N>(values..., begin, end)`, called
    directly over [0, trip count) and marked `no_inline`: LLVM optimizes a
    kernel per function instead of a training step's every kernel in one
    function, whose dominator trees and loop analyses cost more than
    linearly in its size (MobileNetV2's step compiled in 104 s, 28 s so).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::scf::SCFDialect"];
}

def NNLowerParallelDispatch
    : Pass<"nn-lower-parallel-dispatch", "mlir::ModuleOp"> {
  let summary = "Define the dispatchers of outlined loops and GEMM epilogues";
  let description = [{
    Runs on the LLVM dialect, after nn-outline-parallel-loops and the
    conversion to LLVM. Each dispatcher declaration (`nn.parallel_body`
    names its loop's function) gets a body that stores its arguments in a
    stack record and calls the runtime's `__nncc_parallel_range(count,
    trampoline, record)`, which runs `trampoline(record, begin, end)` on
    one range of the loop per thread; the trampoline loads the arguments and
    calls the loop's function. A GEMM's dispatcher (`nn.gemm_epilogue`
    names the epilogue that nn-lower-matmul-calls generated) is alike: the
    epilogue's arguments go in the record, the GEMM's to
    `__nncc_sgemm_tiles(..., trampoline, record)`, which runs
    `trampoline(record, matrix, i, j, rows, cols)` on each final block.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def NNWidenBoolMemory : Pass<"nn-widen-bool-memory", "mlir::ModuleOp"> {
  let summary = "Load and store booleans in memory as bytes";
  let description = [{
    Runs on the LLVM dialect. A buffer of i1 (a causal mask, a comparison
    kept for backward) holds one byte per element. LLVM's vector of i1 in
    memory is a bit mask instead, so the loop vectorizer cannot load eight or
    sixteen such elements at once: it loaded them one by one into a mask
    register (an attention's softmax gradient ran at a tenth of its speed).
    Every `llvm.load` of an i1 becomes a load of its byte and a `trunc`,
    every `llvm.store` a `zext` and a store of the byte: the same memory, as
    LLVM reads and writes an i1, in a form that vectorizes.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def NNPlanMemory : Pass<"nn-plan-memory", "mlir::func::FuncOp"> {
  let summary = "Place every intermediate buffer in one statically sized arena";
  let description = [{
    Runs after bufferization. Every `memref.alloc` of a static shape in the
    function becomes a `memref.view` at a compile-time offset into one arena,
    passed as a new last argument `memref<Nxi8>`; `memref.dealloc`s of those
    buffers are erased. Offsets are aligned to 64 bytes for vector loads. Two
    buffers share bytes only when their live ranges (from the allocation to the
    last use of the buffer or of any view of it) do not overlap, or when an
    elementwise `linalg.generic` writes its output in place of an input that
    dies in it (identity indexing maps, every loop parallel, the output's old
    value unread and the input reached through that operand only). The
    arena's size is recorded in the function's `nn.workspace_bytes` attribute.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def NNLowerMatmulCalls : Pass<"nn-lower-matmul-calls", "mlir::ModuleOp"> {
  let summary = "Call the runtime's packed GEMM for large matrix products";
  let description = [{
    Runs after bufferization, before nn-plan-memory. Every `linalg.generic`
    marked `nn.matmul` (a matrix product, possibly batched, with operands of
    any strides) becomes a call of `__nncc_sgemm`, the runtime's cache-blocked,
    register-tiled GEMM, one per batch of matrices (the last batch
    dimension; loops over the others); transposed and
    broadcast operands are passed by their strides, not copied. When the
    product's buffer is read only by a bias add (then maybe a residual add,
    then maybe relu) right after it, also through a reshaping view, that
    loop becomes the GEMM's epilogue: the GEMM writes the add's output
    and the product's own buffer disappears. Any other all-parallel
    generic that alone reads the product becomes a generated epilogue: a
    function (`nn.gemm_tile`) that runs its body on one block of the
    product, which the GEMM calls through a dispatcher declaration
    (`nn.gemm_epilogue`) on each block once it is final; an output of it
    allocated after the product is written in place of the product. The
    call's packing buffers are
    new allocations, sized for the module's `nn.threads`, which
    nn-plan-memory places in the arena like every other buffer. A marked
    generic of another form stays a loop nest.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::scf::SCFDialect"];
}

def NNApproximateMath : Pass<"nn-approximate-math", "mlir::func::FuncOp"> {
  let summary = "Inline polynomial approximations of float32 transcendentals";
  let description = [{
    Replaces float32 `math.tanh`, `math.exp`, `math.log`, `math.erf` (and
    the other functions MLIR approximates) by branch-free polynomial and
    rational approximations built from arithmetic, so that LLVM vectorizes
    the loops that compute them instead of calling libm once per element.
    Their accuracy against libm is measured by test/e2e/math_accuracy.test.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def NNExpandStridedCopies
    : Pass<"nn-expand-strided-copies", "mlir::func::FuncOp"> {
  let summary = "Turn copies between strided memrefs into linalg.copy";
  let description = [{
    Bufferization copies slices (of concat, split, slice and padding) with
    `memref.copy`, which LLVM lowering turns into a call to MLIR's C runtime
    (`memrefCopy`) unless both sides are contiguous. The generated library
    links nothing but libc and libm, so those copies become `linalg.copy`,
    lowered to loops like every other kernel. Contiguous copies stay
    `memref.copy` (a `memcpy`). A copy of a view onto the same view (the
    `tensor.parallel_insert_slice` of a slice that an `scf.forall` body
    wrote in place) is erased.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def NNFlattenElementwise
    : Pass<"nn-flatten-elementwise", "mlir::func::FuncOp"> {
  let summary = "Run elementwise kernels over contiguous buffers as one loop";
  let description = [{
    A kernel that reads and writes all its operands element for element
    (every indexing map the identity), all of them contiguous buffers of
    more than one dimension, becomes the same kernel over their elements
    as one dimension, through `memref.collapse_shape` views. LLVM
    vectorizes a nest along its innermost loop; where that loop is short
    (a convolution weight's 3 x 3 kernel, in its optimizer update) it
    vectorized the next one out instead, with gathers and scatters of the
    inner loop's stride. The loop over all elements vectorizes with plain
    loads and stores. Runs after nn-lower-matmul-calls, which has taken the
    products' epilogues by then.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def NNTagKernelKinds : Pass<"nn-tag-kernel-kinds", "mlir::func::FuncOp"> {
  let summary = "Record in each nn op's location the kind of kernel it is";
  let description = [{
    The first half of `nncc --profile`. Wraps the location of every nn op in
    a `FusedLoc` whose metadata is the string `nn.kernel:<kind>`, with the
    kinds of `include/nncc/Runtime/ProfileKinds.def`: `gemm` (matmul),
    `conv` (a convolution and its two gradients), `pooling` (and its
    gradient), `reduction` (sums, maxima, softmax, losses), `optimizer` (the
    parameter updates), `copy` (reshapes, transposes, slices, gathers, casts)
    and `elementwise` (the rest). The lowerings give the ops they build the
    location of the op they lower, so the kind reaches the loops, copies and
    GEMM calls that nn-instrument-kernels times. Nothing else changes.
  }];
}

def NNInstrumentKernels : Pass<"nn-instrument-kernels", "mlir::ModuleOp"> {
  let summary = "Time every kernel of @forward and @train_step by kind";
  let description = [{
    The second half of `nncc --profile`, after nn-plan-memory. In `@forward`
    and `@train_step`, every kernel at the top of the function (a structured
    op, a loop, a copy, a call of the runtime's GEMM) is bracketed by calls
    of the profiling runtime, `__nncc_profile_enter()` before and
    `__nncc_profile_exit(kind)` after, which add its wall time to its kind.
    The kind is the first, in ProfileKinds.def's order, of the kinds that
    nn-tag-kernel-kinds left in the kernel's location (fused kernels carry
    the locations of all their ops), or `other` when it carries none.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect"];
}

#endif // NNCC_DIALECT_NN_TRANSFORMS_PASSES_TD
