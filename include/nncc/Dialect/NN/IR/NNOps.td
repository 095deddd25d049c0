//===- NNOps.td - The nn dialect and its operations --------*- tablegen -*-===//
//
// The nn dialect is nncc's graph IR: value-semantics operations on statically
// shaped ranked tensors, one op per mathematical operation of a neural network,
// its loss, its gradient and its optimizer update.
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_DIALECT_NN_IR_NNOPS_TD
#define NNCC_DIALECT_NN_IR_NNOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.td"
include "nncc/Dialect/NN/IR/NNInterfaces.td"

//===----------------------------------------------------------------------===//
// Dialect
//===----------------------------------------------------------------------===//

def NN_Dialect : Dialect {
  let name = "nn";
  let cppNamespace = "::nncc::nn";
  let summary = "Neural-network graph operations for training";
  let description = [{
    Value-semantics operations on ranked, statically shaped tensors. Every op
    verifies its invariants and infers its result type; differentiable ops
    implement `GradientOpInterface`.

    Functions in this dialect carry their interface as attributes: an argument
    with `nn.name` is a data input (or a target), one with `nn.param` is a
    trainable parameter whose attribute holds its initial value.
  }];
  let hasConstantMaterializer = 1;
}

//===----------------------------------------------------------------------===//
// Type constraints and base classes
//===----------------------------------------------------------------------===//

def NN_FloatTensor : RankedTensorOf<[AnyFloat]>;
def NN_NumericTensor : RankedTensorOf<[AnyFloat, AnySignlessInteger]>;
def NN_ScalarFloatTensor : 0DTensorOf<[AnyFloat]>;
/// The number of real samples in a (possibly partial) batch.
def NN_CountTensor : 0DTensorOf<[I64]> {
  let builderCall = "::mlir::RankedTensorType::get({}, $_builder.getI64Type())";
}

/// The per-step hyperparameters, computed by the library before each step
/// (see HyperSlot in NN.h): the learning rate can change between steps, and
/// bias corrections depend on the step count.
def NN_HyperTensor : 1DTensorOf<[F32]>;

class NN_Op<string mnemonic, list<Trait> traits = []>
    : Op<NN_Dialect, mnemonic, traits>;

/// An elementwise op of one float tensor.
class NN_UnaryOp<string mnemonic, list<Trait> traits = []>
    : NN_Op<mnemonic, traits # [Pure, SameOperandsAndResultType,
        DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let arguments = (ins NN_FloatTensor:$input);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

/// An elementwise op of two float tensors with numpy (multidirectional)
/// broadcasting: shapes are aligned at the right, and a dimension of size 1
/// stretches to the other operand's size.
class NN_BroadcastBinaryOp<string mnemonic, list<Trait> traits = []>
    : NN_Op<mnemonic, traits # [Pure,
        InferTypeOpAdaptor,
        DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let arguments = (ins NN_FloatTensor:$lhs, NN_FloatTensor:$rhs);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def NN_ConstantOp : NN_Op<"constant", [ConstantLike, Pure,
    InferTypeOpAdaptor]> {
  let summary = "A constant tensor";
  let description = [{
    A tensor known at compile time: shape constants, integer initializers,
    scalars introduced by gradients.

    ```mlir
    %one = nn.constant dense<1.0> : tensor<f32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def NN_MatMulOp : NN_Op<"matmul", [Pure,
    InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Matrix product, optionally transposed and batched";
  let description = [{
    `result = op(lhs) * op(rhs)` where `op` transposes the last two
    dimensions when `transpose_lhs` or `transpose_rhs` is set. With `op(lhs)`
    of shape `[..., M, K]` and `op(rhs)` of shape `[..., K, N]`, the result
    has shape `[..., M, N]`; the leading (batch) dimensions broadcast as in
    numpy.

    ```mlir
    %y = nn.matmul %x, %w transposed : tensor<4x2xf32>, tensor<3x2xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$lhs, NN_FloatTensor:$rhs,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs (`transposed` $transpose_lhs^)? `,` $rhs (`transposed` $transpose_rhs^)?
    attr-dict `:` type($lhs) `,` type($rhs)
  }];
}

//===----------------------------------------------------------------------===//
// Elementwise arithmetic
//===----------------------------------------------------------------------===//

def NN_AddOp : NN_BroadcastBinaryOp<"add", [Commutative]> {
  let summary = "Elementwise sum with broadcasting";
  let description = [{
    ```mlir
    %y = nn.add %x, %b : tensor<4x3xf32>, tensor<3xf32>
    ```
  }];
}

def NN_SubOp : NN_BroadcastBinaryOp<"sub"> {
  let summary = "Elementwise difference with broadcasting";
  let description = [{
    ```mlir
    %y = nn.sub %x, %b : tensor<4x3xf32>, tensor<4x1xf32>
    ```
  }];
}

def NN_MulOp : NN_BroadcastBinaryOp<"mul", [Commutative]> {
  let summary = "Elementwise product with broadcasting";
  let description = [{
    ```mlir
    %y = nn.mul %x, %s : tensor<4x3xf32>, tensor<f32>
    ```
  }];
}

def NN_DivOp : NN_BroadcastBinaryOp<"div"> {
  let summary = "Elementwise quotient with broadcasting";
  let description = [{
    ```mlir
    %y = nn.div %x, %s : tensor<4x3xf32>, tensor<1x3xf32>
    ```
  }];
}

def NN_PowOp : NN_BroadcastBinaryOp<"pow"> {
  let summary = "Elementwise power with broadcasting";
  let description = [{
    `lhs ^ rhs`, as `powf` computes it.

    ```mlir
    %y = nn.pow %x, %two : tensor<4x3xf32>, tensor<f32>
    ```
  }];
}

def NN_NegOp : NN_UnaryOp<"neg"> {
  let summary = "Elementwise negation";
  let description = [{
    ```mlir
    %y = nn.neg %x : tensor<4x3xf32>
    ```
  }];
}

def NN_SqrtOp : NN_UnaryOp<"sqrt"> {
  let summary = "Elementwise square root";
  let description = [{
    ```mlir
    %y = nn.sqrt %x : tensor<4x3xf32>
    ```
  }];
}

def NN_ExpOp : NN_UnaryOp<"exp"> {
  let summary = "Elementwise exponential";
  let description = [{
    ```mlir
    %y = nn.exp %x : tensor<4x3xf32>
    ```
  }];
}

def NN_LogOp : NN_UnaryOp<"log"> {
  let summary = "Elementwise natural logarithm";
  let description = [{
    ```mlir
    %y = nn.log %x : tensor<4x3xf32>
    ```
  }];
}

def NN_AbsOp : NN_UnaryOp<"abs"> {
  let summary = "Elementwise absolute value";
  let description = [{
    ```mlir
    %y = nn.abs %x : tensor<4x3xf32>
    ```
  }];
}

def NN_ReciprocalOp : NN_UnaryOp<"reciprocal"> {
  let summary = "Elementwise 1 / x";
  let description = [{
    ```mlir
    %y = nn.reciprocal %x : tensor<4x3xf32>
    ```
  }];
}

def NN_ErfOp : NN_UnaryOp<"erf"> {
  let summary = "Elementwise error function";
  let description = [{
    ```mlir
    %y = nn.erf %x : tensor<4x3xf32>
    ```
  }];
}

def NN_MaximumOp : NN_BroadcastBinaryOp<"maximum", [Commutative]> {
  let summary = "Elementwise maximum with broadcasting (ONNX Max)";
  let description = [{
    NaN if either operand is NaN, as PyTorch's `maximum`. Its gradient goes
    to the larger operand, and half to each where they are equal, as
    PyTorch's.

    ```mlir
    %y = nn.maximum %a, %b : tensor<4x3xf32>, tensor<3xf32>
    ```
  }];
}

def NN_MinimumOp : NN_BroadcastBinaryOp<"minimum", [Commutative]> {
  let summary = "Elementwise minimum with broadcasting (ONNX Min)";
  let description = [{
    NaN if either operand is NaN; the gradient as `nn.maximum`'s.

    ```mlir
    %y = nn.minimum %a, %b : tensor<4x3xf32>, tensor<3xf32>
    ```
  }];
}

def NN_SignOp : NN_Op<"sign", [Pure, SameOperandsAndResultType]> {
  let summary = "Elementwise sign: -1, 0 or 1";
  let description = [{
    The slope of `nn.abs`, as PyTorch's `sign` (0 at 0). Not differentiable
    itself: it only appears in gradients.

    ```mlir
    %s = nn.sign %x : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

def NN_TanhOp : NN_UnaryOp<"tanh"> {
  let summary = "Elementwise hyperbolic tangent";
  let description = [{
    ```mlir
    %y = nn.tanh %x : tensor<4x3xf32>
    ```
  }];
}

def NN_SigmoidOp : NN_UnaryOp<"sigmoid"> {
  let summary = "Elementwise logistic function 1 / (1 + exp(-x))";
  let description = [{
    ```mlir
    %y = nn.sigmoid %x : tensor<4x3xf32>
    ```
  }];
}

def NN_ReluOp : NN_UnaryOp<"relu"> {
  let summary = "Elementwise max(x, 0)";
  let description = [{
    ```mlir
    %y = nn.relu %x : tensor<4x3xf32>
    ```
  }];
}

def NN_LeakyReluOp : NN_Op<"leaky_relu", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Elementwise x for x >= 0, alpha * x below";
  let description = [{
    ```mlir
    %y = nn.leaky_relu %x {alpha = 0.01} : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, F64Attr:$alpha);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_EluOp : NN_Op<"elu", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Elementwise x for x > 0, alpha * (exp(x) - 1) below";
  let description = [{
    ```mlir
    %y = nn.elu %x {alpha = 1.0} : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, F64Attr:$alpha);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_ClipOp : NN_Op<"clip", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Elementwise clamp to [min, max] (ONNX Clip, ReLU6)";
  let description = [{
    `min` below `min`, `max` above `max`, `x` between and for NaN. Either
    bound may be infinite. The gradient passes strictly inside the interval,
    as PyTorch's `hardtanh_backward` (ReLU6 exports as Clip).

    ```mlir
    %y = nn.clip %x {min = 0.0, max = 6.0} : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, F64Attr:$min, F64Attr:$max);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def NN_ClipGradOp : NN_Op<"clip_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "Gradient of clip: `grad` where `min < input < max`, else 0";
  let description = [{
    ```mlir
    %dx = nn.clip_grad %x, %dy {min = 0.0, max = 6.0} : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$grad,
                       F64Attr:$min, F64Attr:$max);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input `,` $grad attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def NN_SoftplusOp : NN_UnaryOp<"softplus"> {
  let summary = "Elementwise log(1 + exp(x))";
  let description = [{
    As PyTorch's `softplus` (beta 1, threshold 20): `x` itself above 20,
    `log1p(exp(x))` below. The gradient is `sigmoid(x)`.

    ```mlir
    %y = nn.softplus %x : tensor<4x3xf32>
    ```
  }];
}

def NN_ActivationGradOp : NN_Op<"activation_grad", [Pure,
    SameOperandsAndResultType]> {
  let summary = "Gradient of leaky_relu or elu";
  let description = [{
    `grad` where `input > 0`; below, `grad * alpha` for `leaky_relu` and
    `grad * alpha * exp(input)` for `elu`, as PyTorch's backward functions.

    ```mlir
    %dx = nn.activation_grad %x, %dy {kind = "elu", alpha = 1.0} : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$grad,
                       StrAttr:$kind, F64Attr:$alpha);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input `,` $grad attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def NN_ReluGradOp : NN_Op<"relu_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "Gradient of relu: `grad` where `input > 0`, else 0";
  let description = [{
    The vector-Jacobian product of `nn.relu`, as PyTorch defines it: the
    gradient at 0 is 0. `input` may be relu's input or its output (positive
    at the same elements); nn-build-training passes the output, as
    PyTorch's `threshold_backward` does.

    ```mlir
    %dx = nn.relu_grad %x, %dy : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$grad);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input `,` $grad attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Shapes and reductions
//===----------------------------------------------------------------------===//

def NN_ReduceSumOp : NN_Op<"reduce_sum", [Pure,
    InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Sum over the given axes";
  let description = [{
    Sums `input` over `axes` (distinct, in `[0, rank)`). With `keep_dims` the
    reduced axes stay as size-1 dimensions; otherwise they are removed.

    ```mlir
    %s = nn.reduce_sum %x axes [0] keep_dims : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, DenseI64ArrayAttr:$axes,
                       UnitAttr:$keep_dims);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $input `axes` $axes (`keep_dims` $keep_dims^)? attr-dict `:` type($input)
  }];
}

def NN_ReshapeOp : NN_Op<"reshape", [Pure,
    InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "The same elements in row-major order, in another shape";
  let description = [{
    ```mlir
    %y = nn.reshape %x to [12] : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `to` $shape attr-dict `:` type($input)";
  let hasFolder = 1;
}

def NN_TransposeOp : NN_Op<"transpose", [Pure,
    InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Permute the dimensions of a tensor";
  let description = [{
    Dimension `i` of the result is dimension `perm[i]` of the input.

    ```mlir
    %y = nn.transpose %x perm [1, 0] : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `perm` $perm attr-dict `:` type($input)";
}

def NN_BroadcastToOp : NN_Op<"broadcast_to", [Pure,
    InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Broadcast a tensor to a shape";
  let description = [{
    Numpy broadcasting of `input` to exactly `shape`: the input's dimensions
    are aligned at the right and each is either 1 or equal to the target's.

    ```mlir
    %y = nn.broadcast_to %x to [4, 3] : tensor<3xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `to` $shape attr-dict `:` type($input)";
  let hasFolder = 1;
}

def NN_ReduceMaxOp : NN_Op<"reduce_max", [Pure,
    InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Maximum over the given axes";
  let description = [{
    Like `nn.reduce_sum`, with the maximum. The gradient goes to the
    elements equal to the maximum, shared evenly among ties (as
    `torch.amax`).

    ```mlir
    %m = nn.reduce_max %x axes [1] keep_dims : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, DenseI64ArrayAttr:$axes,
                       UnitAttr:$keep_dims);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $input `axes` $axes (`keep_dims` $keep_dims^)? attr-dict `:` type($input)
  }];
}

def NN_ConcatOp : NN_Op<"concat", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Join tensors along an axis";
  let description = [{
    ```mlir
    %y = nn.concat %a, %b axis 1 : tensor<2x3xf32>, tensor<2x5xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$inputs `axis` $axis attr-dict `:` type($inputs)";
  let hasFolder = 1;
}

def NN_SliceOp : NN_Op<"slice", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "A strided box of a tensor";
  let description = [{
    `result[i] = input[starts + i * strides]` for `i` in `[0, sizes)`, per
    dimension; strides are positive and every index is in bounds.

    ```mlir
    %y = nn.slice %x starts [0, 1] sizes [4, 2] strides [1, 2] : tensor<4x6xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$starts,
                       DenseI64ArrayAttr:$sizes, DenseI64ArrayAttr:$strides);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `starts` $starts `sizes` $sizes `strides` $strides attr-dict `:`
    type($input)
  }];
  let hasFolder = 1;
}

def NN_SliceGradOp : NN_Op<"slice_grad", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Gradient of nn.slice: the slice placed in zeros";
  let description = [{
    A tensor of `shape` that is zero except at the positions `nn.slice` with
    the same `starts` and `strides` reads, which hold `grad`.

    ```mlir
    %d = nn.slice_grad %g to [4, 6] starts [0, 1] strides [1, 2] : tensor<4x2xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$grad, DenseI64ArrayAttr:$shape,
                       DenseI64ArrayAttr:$starts, DenseI64ArrayAttr:$strides);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `to` $shape `starts` $starts `strides` $strides attr-dict `:`
    type($grad)
  }];
}

def NN_SliceAddOp : NN_Op<"slice_add", [Pure,
    AllTypesMatch<["accumulator", "result"]>]> {
  let summary = "A tensor with a slice's gradient added where the slice is";
  let description = [{
    `accumulator` plus `nn.slice_grad` of `grad` (the same `starts` and
    `strides`), computed over the slice's positions only. Autodiff sums the
    gradients of a value that several slices read (an unrolled recurrent
    network's time steps) with it, so that their sum costs the slices'
    sizes, not a zero-filled full tensor and a full addition per slice.

    ```mlir
    %d = nn.slice_add %acc, %g starts [0, 1] strides [1, 2] : tensor<4x6xf32>, tensor<4x2xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$accumulator, NN_FloatTensor:$grad,
                       DenseI64ArrayAttr:$starts, DenseI64ArrayAttr:$strides);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $accumulator `,` $grad `starts` $starts `strides` $strides attr-dict `:`
    type($accumulator) `,` type($grad)
  }];
  let hasVerifier = 1;
}

def NN_ReverseOp : NN_Op<"reverse", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Reverse the order of elements along axes";
  let description = [{
    ```mlir
    %y = nn.reverse %x axes [1] : tensor<4x6xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `axes` $axes attr-dict `:` type($input)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def NN_GatherOp : NN_Op<"gather", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Pick slices along an axis by index (ONNX Gather)";
  let description = [{
    `result[a..., i..., b...] = input[a..., indices[i...], b...]` with `a` the
    dimensions before `axis` and `b` those after it. A negative index counts
    from the end; an index out of `[-d, d)` reads slice 0 (checked data is
    the caller's job: the kernel never reads out of bounds).

    ```mlir
    %e = nn.gather %table, %ids axis 0 : tensor<96x16xf32>, tensor<4x8xi64>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, TensorOf<[I64]>:$indices,
                       I64Attr:$axis);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $indices `axis` $axis attr-dict `:` type($input) `,`
    type($indices)
  }];
  let hasFolder = 1;
}

def NN_GatherGradOp : NN_Op<"gather_grad", [Pure, InferTypeOpAdaptor]> {
  let summary = "Gradient of nn.gather: scatter-add into zeros";
  let description = [{
    A tensor of `shape`, zero but for the slices `nn.gather` read, which
    accumulate the gradient of every read (a repeated index sums).

    ```mlir
    %d = nn.gather_grad %g, %ids to [96, 16] axis 0 : tensor<4x8x16xf32>, tensor<4x8xi64>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$grad, TensorOf<[I64]>:$indices,
                       DenseI64ArrayAttr:$shape, I64Attr:$axis);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $indices `to` $shape `axis` $axis attr-dict `:` type($grad) `,`
    type($indices)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

class NN_SoftmaxBase<string mnemonic> : NN_Op<mnemonic, [Pure,
    SameOperandsAndResultType,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let arguments = (ins NN_FloatTensor:$input, I64Attr:$axis);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input `axis` $axis attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def NN_SoftmaxOp : NN_SoftmaxBase<"softmax"> {
  let summary = "Softmax along one axis";
  let description = [{
    `exp(x - max(x)) / sum(exp(x - max(x)))` along `axis` (in `[0, rank)`).

    ```mlir
    %p = nn.softmax %x axis 1 : tensor<4x3xf32>
    ```
  }];
}

def NN_LogSoftmaxOp : NN_SoftmaxBase<"log_softmax"> {
  let summary = "Logarithm of the softmax along one axis";
  let description = [{
    `x - max(x) - log(sum(exp(x - max(x))))` along `axis`.

    ```mlir
    %p = nn.log_softmax %x axis 1 : tensor<4x3xf32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Comparison, selection and conversion
//===----------------------------------------------------------------------===//

def NN_EqualOp : NN_Op<"equal", [Pure, InferTypeOpAdaptor]> {
  let summary = "Elementwise equality with broadcasting";
  let description = [{
    A boolean (`i1`) tensor, true where the operands are equal.

    ```mlir
    %m = nn.equal %a, %b : tensor<4xi64>, tensor<i64>
    ```
  }];
  let arguments = (ins NN_NumericTensor:$lhs, NN_NumericTensor:$rhs);
  let results = (outs TensorOf<[I1]>:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
  let hasFolder = 1;
}

def NN_ComparePredicateAttr : I64EnumAttr<"ComparePredicate",
    "ordering comparison", [
    I64EnumAttrCase<"lt", 0>, I64EnumAttrCase<"le", 1>,
    I64EnumAttrCase<"gt", 2>, I64EnumAttrCase<"ge", 3>]> {
  let cppNamespace = "::nncc::nn";
}

def NN_CompareOp : NN_Op<"compare", [Pure, InferTypeOpAdaptor]> {
  let summary = "Elementwise ordering with broadcasting (ONNX Less, Greater)";
  let description = [{
    A boolean (`i1`) tensor, true where `lhs predicate rhs`; false where a
    float operand is NaN. Integers compare as signed.

    ```mlir
    %m = nn.compare gt %a, %b : tensor<4xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins NN_ComparePredicateAttr:$predicate,
                       NN_NumericTensor:$lhs, NN_NumericTensor:$rhs);
  let results = (outs TensorOf<[I1]>:$result);
  let assemblyFormat = [{
    $predicate $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)
  }];
  let hasFolder = 1;
}

def NN_LogicKindAttr : I64EnumAttr<"LogicKind", "boolean operation", [
    I64EnumAttrCase<"And", 0, "and">, I64EnumAttrCase<"Or", 1, "or">,
    I64EnumAttrCase<"Xor", 2, "xor">]> {
  let cppNamespace = "::nncc::nn";
}

def NN_LogicOp : NN_Op<"logic", [Pure, InferTypeOpAdaptor]> {
  let summary = "Elementwise and, or, xor of booleans with broadcasting";
  let description = [{
    ```mlir
    %m = nn.logic and %a, %b : tensor<4x4xi1>, tensor<4xi1>
    ```
  }];
  let arguments = (ins NN_LogicKindAttr:$kind, TensorOf<[I1]>:$lhs,
                       TensorOf<[I1]>:$rhs);
  let results = (outs TensorOf<[I1]>:$result);
  let assemblyFormat = [{
    $kind $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)
  }];
  let hasFolder = 1;
}

def NN_NotOp : NN_Op<"not", [Pure, SameOperandsAndResultType]> {
  let summary = "Elementwise negation of booleans";
  let description = [{
    ```mlir
    %m = nn.not %a : tensor<4x4xi1>
    ```
  }];
  let arguments = (ins TensorOf<[I1]>:$input);
  let results = (outs TensorOf<[I1]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
}

def NN_SelectOp : NN_Op<"select", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Elementwise choice between two tensors (ONNX Where)";
  let description = [{
    `condition ? true_value : false_value`, all three broadcast together.

    ```mlir
    %y = nn.select %mask, %x, %ninf : tensor<4x4xi1>, tensor<2x4x4xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins TensorOf<[I1]>:$condition, AnyRankedTensor:$true_value,
                       AnyRankedTensor:$false_value);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $condition `,` $true_value `,` $false_value attr-dict `:` type($condition)
    `,` type($true_value) `,` type($false_value)
  }];
  let hasFolder = 1;
}

def NN_CastOp : NN_Op<"cast", [Pure,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Elementwise conversion between float, integer and boolean";
  let description = [{
    Floats convert to integers by truncation toward zero, to booleans by
    `!= 0`; booleans convert to 0 and 1.

    ```mlir
    %f = nn.cast %m : tensor<4xi1> to tensor<4xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def NN_TriluOp : NN_Op<"trilu", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "The upper or lower triangle of the last two dimensions";
  let description = [{
    Keeps the elements `[..., i, j]` with `j - i >= k` (`upper`) or
    `j - i <= k` (lower) and sets the others to zero.

    ```mlir
    %y = nn.trilu %x k 0 : tensor<4x4xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$k, UnitAttr:$upper);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `k` $k (`upper` $upper^)? attr-dict `:` type($input)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Behaviour that differs between a training step and inference
//===----------------------------------------------------------------------===//

def NN_TrainingSelectOp : NN_Op<"training_select", [Pure,
    AllTypesMatch<["training", "inference", "result"]>]> {
  let summary = "One value in a training step, another in inference";
  let description = [{
    `training` in `@train_step`, `inference` in `@forward`: how dropout and
    batch normalization in training mode differ between `nncc_train_step`
    and `nncc_forward`. nn-build-training keeps the training value in the
    step it builds; nn-specialize-inference keeps the other in `@forward`.

    ```mlir
    %y = nn.training_select %dropped, %x : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$training, AnyRankedTensor:$inference);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$training `,` $inference attr-dict `:` type($result)";
}

def NN_DropoutMaskOp : NN_Op<"dropout_mask", [Pure]> {
  let summary = "A fresh dropout mask of each training step";
  let description = [{
    Each element is 0 with probability `ratio` and `1 / (1 - ratio)`
    otherwise, drawn by a counter-based generator from `seed`, the step
    number (from the hyperparameter vector) and the element's index: the
    same step gives the same mask, each step a new one, on every machine.
    nn-build-training gives the op its `step` operand; it has no meaning
    outside a training step.

    ```mlir
    %m = nn.dropout_mask step(%hyper : tensor<8xf32>)
        {ratio = 0.5 : f64, seed = 7 : i64} : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Optional<NN_HyperTensor>:$hyper, F64Attr:$ratio,
                       I64Attr:$seed);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    (`step` `(` $hyper^ `:` type($hyper) `)`)? attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

def NN_SampleMaskOp : NN_Op<"sample_mask", [Pure]> {
  let summary = "1 for the real samples of a batch, 0 for the padding";
  let description = [{
    A `[N, 1, ...]` tensor that is 1 at the first `count` indices of
    dimension 0 and 0 after: batch statistics of a partial batch (the last
    of an epoch in `nncc_train`) leave the padding out. Without `count` (in
    `@forward`) every sample is real.

    ```mlir
    %w = nn.sample_mask count(%n : tensor<i64>) : tensor<4x1x1x1xf32>
    ```
  }];
  let arguments = (ins Optional<NN_CountTensor>:$count);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    (`count` `(` $count^ `:` type($count) `)`)? attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def NN_RunningUpdateOp : NN_Op<"running_update", [
    MemoryEffects<[MemWrite]>, AllTypesMatch<["param", "value"]>]> {
  let summary = "A training step's new value of non-trained model state";
  let description = [{
    Batch normalization's running statistics are parameters that no
    optimizer trains but that each training step replaces. `param` is a
    parameter argument of the function; nn-build-training makes `value` the
    step's result for it, and `@forward` drops the op (inference changes
    nothing).

    ```mlir
    nn.running_update %running_mean, %new_mean : tensor<4xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$param, NN_FloatTensor:$value);
  let assemblyFormat = "$param `,` $value attr-dict `:` type($param)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

/// The window of a convolution or pooling over the spatial dimensions of an
/// `[N, C, spatial...]` tensor: one entry per spatial dimension in `strides`
/// and `dilations`, and `pads` holding the zero padding at the beginning of
/// each, then at the end of each (ONNX's order).
class NN_WindowOp<string mnemonic, list<Trait> traits = []>
    : NN_Op<mnemonic, traits # [Pure, InferTypeOpAdaptor]>;

def NN_ConvOp : NN_WindowOp<"conv",
    [DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Grouped N-D convolution (cross-correlation), as ONNX Conv";
  let description = [{
    `input` is `[N, C, spatial...]` and `weight` `[F, C / groups, kernel...]`;
    the result is `[N, F, out...]`. Bias is a separate `nn.add`.

    ```mlir
    %y = nn.conv %x, %w strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] groups 1
        : tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$weight,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, I64Attr:$groups);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `strides` $strides `pads` $pads `dilations` $dilations
    `groups` $groups attr-dict `:` type($input) `,` type($weight)
  }];
}

def NN_ConvGradInputOp : NN_WindowOp<"conv_grad_input"> {
  let summary = "Gradient of nn.conv with respect to its input";
  let description = [{
    ```mlir
    %dx = nn.conv_grad_input %g, %w to [2, 3, 8, 8] strides [1, 1]
        pads [1, 1, 1, 1] dilations [1, 1] groups 1
        : tensor<2x4x8x8xf32>, tensor<4x3x3x3xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$grad, NN_FloatTensor:$weight,
                       DenseI64ArrayAttr:$input_shape,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, I64Attr:$groups);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $weight `to` $input_shape `strides` $strides `pads` $pads
    `dilations` $dilations `groups` $groups attr-dict `:` type($grad) `,`
    type($weight)
  }];
  let hasVerifier = 1;
}

def NN_ConvGradWeightOp : NN_WindowOp<"conv_grad_weight"> {
  let summary = "Gradient of nn.conv with respect to its weight";
  let description = [{
    ```mlir
    %dw = nn.conv_grad_weight %x, %g to [4, 3, 3, 3] strides [1, 1]
        pads [1, 1, 1, 1] dilations [1, 1] groups 1
        : tensor<2x3x8x8xf32>, tensor<2x4x8x8xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$grad,
                       DenseI64ArrayAttr:$weight_shape,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, I64Attr:$groups);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $grad `to` $weight_shape `strides` $strides `pads` $pads
    `dilations` $dilations `groups` $groups attr-dict `:` type($input) `,`
    type($grad)
  }];
  let hasVerifier = 1;
}

def NN_PoolKindAttr : I64EnumAttr<"PoolKind", "pooling reduction", [
    I64EnumAttrCase<"max", 0>, I64EnumAttrCase<"avg", 1>]> {
  let cppNamespace = "::nncc::nn";
}

def NN_PoolOp : NN_WindowOp<"pool",
    [DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Max or average pooling over windows, as ONNX's";
  let description = [{
    Over `[N, C, spatial...]`. `ceil_mode` rounds the number of windows up:
    the last window may then extend past the padding, and that part counts
    for nothing. Max pooling ignores padding; average pooling divides by the
    window's size including padding with `count_include_pad`, and by the
    number of input elements in it otherwise.

    ```mlir
    %y = nn.pool max %x kernel [2, 2] strides [2, 2] pads [0, 0, 0, 0]
        dilations [1, 1] : tensor<2x3x8x8xf32>
    ```
  }];
  let arguments = (ins NN_PoolKindAttr:$kind, NN_FloatTensor:$input,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
                       UnitAttr:$ceil_mode, UnitAttr:$count_include_pad);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $kind $input `kernel` $kernel `strides` $strides `pads` $pads
    `dilations` $dilations (`ceil_mode` $ceil_mode^)?
    (`count_include_pad` $count_include_pad^)? attr-dict `:` type($input)
  }];
}

def NN_PoolGradOp : NN_WindowOp<"pool_grad"> {
  let summary = "Gradient of nn.pool with respect to its input";
  let description = [{
    Max pooling sends each window's gradient to the first maximal element of
    the window (as PyTorch); average pooling spreads it over the window.

    ```mlir
    %dx = nn.pool_grad max %x, %g kernel [2, 2] strides [2, 2]
        pads [0, 0, 0, 0] dilations [1, 1] : tensor<2x3x8x8xf32>, tensor<2x3x4x4xf32>
    ```
  }];
  let arguments = (ins NN_PoolKindAttr:$kind, NN_FloatTensor:$input,
                       NN_FloatTensor:$grad,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
                       UnitAttr:$ceil_mode, UnitAttr:$count_include_pad);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $kind $input `,` $grad `kernel` $kernel `strides` $strides `pads` $pads
    `dilations` $dilations (`ceil_mode` $ceil_mode^)?
    (`count_include_pad` $count_include_pad^)? attr-dict `:` type($input)
    `,` type($grad)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

def NN_MSELossOp : NN_Op<"mse_loss", [Pure, AllTypesMatch<["input", "target"]>,
    InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Mean squared error over the first `count` samples";
  let description = [{
    `mean((input - target)^2)` over the samples `[0, count)` of dimension 0
    and all elements of each sample, as `torch.nn.MSELoss()` computes it on a
    batch of `count` samples. Samples at and after `count` are padding of a
    partial batch and contribute nothing.

    ```mlir
    %l = nn.mse_loss %y, %t, %n : tensor<4x1xf32>, tensor<i64>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$target,
                       NN_CountTensor:$count);
  let results = (outs NN_ScalarFloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $target `,` $count attr-dict `:` type($input) `,` type($count)
  }];
  let hasVerifier = 1;
}

def NN_MSELossGradOp : NN_Op<"mse_loss_grad", [Pure,
    AllTypesMatch<["input", "target"]>,
    InferTypeOpAdaptor]> {
  let summary = "Gradient of nn.mse_loss with respect to its input";
  let description = [{
    `grad * 2 * (input - target) / (count * sample_size)` for the samples
    before `count`, 0 for the padding samples after it.

    ```mlir
    %d = nn.mse_loss_grad %y, %t, %n, %dl : tensor<4x1xf32>, tensor<i64>, tensor<f32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$target,
                       NN_CountTensor:$count, NN_ScalarFloatTensor:$grad);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $target `,` $count `,` $grad attr-dict `:` type($input) `,`
    type($count) `,` type($grad)
  }];
  let hasVerifier = 1;
}

def NN_CrossEntropyLossOp : NN_Op<"cross_entropy_loss", [Pure,
    InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Softmax cross-entropy over the last axis, as torch's";
  let description = [{
    `input` holds logits with the classes along its last axis, `[..., C]`;
    `target` holds class indices of shape `[...]`. The result is the mean
    over the positions whose sample (dimension 0) is before `count` and whose
    target is not `ignore_index` of
    `(1 - s) * -log_softmax(input)[t] + s / C * -sum(log_softmax(input))`
    with `s = label_smoothing`, as `torch.nn.CrossEntropyLoss` computes it.

    ```mlir
    %l = nn.cross_entropy_loss %logits, %t, %n
        : tensor<4x10xf32>, tensor<4xi64>, tensor<i64>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, RankedTensorOf<[I64]>:$target,
                       NN_CountTensor:$count,
                       DefaultValuedAttr<I64Attr, "-100">:$ignore_index,
                       DefaultValuedAttr<F64Attr, "0.0">:$label_smoothing);
  let results = (outs NN_ScalarFloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $target `,` $count attr-dict `:` type($input) `,` type($target)
    `,` type($count)
  }];
  let hasVerifier = 1;
}

def NN_CrossEntropyLossGradOp : NN_Op<"cross_entropy_loss_grad", [Pure,
    InferTypeOpAdaptor]> {
  let summary = "Gradient of nn.cross_entropy_loss with respect to its input";
  let description = [{
    `(softmax(input) - (1 - s) * onehot(t) - s / C) * grad / n` at the
    positions that count (see nn.cross_entropy_loss), 0 elsewhere, where `n`
    is their number.

    ```mlir
    %d = nn.cross_entropy_loss_grad %logits, %t, %n, %dl
        : tensor<4x10xf32>, tensor<4xi64>, tensor<i64>, tensor<f32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, RankedTensorOf<[I64]>:$target,
                       NN_CountTensor:$count, NN_ScalarFloatTensor:$grad,
                       DefaultValuedAttr<I64Attr, "-100">:$ignore_index,
                       DefaultValuedAttr<F64Attr, "0.0">:$label_smoothing);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $target `,` $count `,` $grad attr-dict `:` type($input) `,`
    type($target) `,` type($count) `,` type($grad)
  }];
  let hasVerifier = 1;
}

def NN_BCEWithLogitsLossOp : NN_Op<"bce_with_logits_loss", [Pure,
    InferTypeOpAdaptor, AllTypesMatch<["input", "target"]>,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "Binary cross-entropy of sigmoid(input), as torch's";
  let description = [{
    The mean over the elements of the first `count` samples of
    `-(t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x)))`, computed
    stably as `torch.nn.BCEWithLogitsLoss` does.

    ```mlir
    %l = nn.bce_with_logits_loss %x, %t, %n : tensor<4x1xf32>, tensor<i64>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$target,
                       NN_CountTensor:$count);
  let results = (outs NN_ScalarFloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $target `,` $count attr-dict `:` type($input) `,` type($count)
  }];
  let hasVerifier = 1;
}

def NN_BCEWithLogitsLossGradOp : NN_Op<"bce_with_logits_loss_grad", [Pure,
    InferTypeOpAdaptor, AllTypesMatch<["input", "target"]>]> {
  let summary = "Gradient of nn.bce_with_logits_loss";
  let description = [{
    `(sigmoid(input) - target) * grad / (count * sample_size)` for the
    samples before `count`, 0 after.

    ```mlir
    %d = nn.bce_with_logits_loss_grad %x, %t, %n, %dl
        : tensor<4x1xf32>, tensor<i64>, tensor<f32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$target,
                       NN_CountTensor:$count, NN_ScalarFloatTensor:$grad);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $target `,` $count `,` $grad attr-dict `:` type($input) `,`
    type($count) `,` type($grad)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Optimizer updates
//===----------------------------------------------------------------------===//


/// The update of one parameter and its optimizer state by one optimizer
/// step. `state` and the `new_state` results have the parameter's type; their
/// number is fixed by the optimizer and its attributes.
class NN_UpdateOp<string mnemonic, dag attrs>
    : NN_Op<mnemonic, [Pure, InferTypeOpAdaptor,
                       AllTypesMatch<["param", "grad"]>]> {
  let arguments = !con((ins NN_FloatTensor:$param, NN_FloatTensor:$grad,
                            Variadic<NN_FloatTensor>:$state,
                            NN_HyperTensor:$hyper), attrs);
  let results = (outs NN_FloatTensor:$new_param,
                      Variadic<NN_FloatTensor>:$new_state);
  let assemblyFormat = [{
    $param `,` $grad (`state` `(` $state^ `:` type($state) `)`)? `,` $hyper
    attr-dict `:` type($param) `,` type($hyper)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// How many state tensors this configuration of the optimizer keeps.
    unsigned getNumStateTensors();
  }];
}

def NN_SGDUpdateOp : NN_UpdateOp<"sgd_update", (ins
    DefaultValuedAttr<F64Attr, "0.0">:$momentum,
    DefaultValuedAttr<F64Attr, "0.0">:$dampening,
    UnitAttr:$nesterov,
    DefaultValuedAttr<F64Attr, "0.0">:$weight_decay)> {
  let summary = "torch.optim.SGD: momentum, dampening, Nesterov, weight decay";
  let description = [{
    As `torch.optim.SGD` (1.13), with `d = grad + weight_decay * param`:
    without momentum `param - lr * d`; with momentum, the state is the
    momentum buffer `buf`, which is `d` on the first step and
    `momentum * buf + (1 - dampening) * d` after, and the step is `buf`, or
    `d + momentum * buf` with `nesterov`.

    ```mlir
    %w2, %buf2 = nn.sgd_update %w, %dw state(%buf : tensor<4x2xf32>), %hyper
        {momentum = 0.9} : tensor<4x2xf32>, tensor<8xf32>
    ```
  }];
}

def NN_AdamUpdateOp : NN_UpdateOp<"adam_update", (ins
    DefaultValuedAttr<F64Attr, "0.9">:$beta1,
    DefaultValuedAttr<F64Attr, "0.999">:$beta2,
    DefaultValuedAttr<F64Attr, "1e-8">:$eps,
    DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
    UnitAttr:$decoupled,
    UnitAttr:$amsgrad)> {
  let summary = "torch.optim.Adam, or AdamW with `decoupled` weight decay";
  let description = [{
    The state is the first and second moment estimates (and their running
    maximum with `amsgrad`). Weight decay adds `weight_decay * param` to the
    gradient (Adam), or with `decoupled` scales the parameter by
    `1 - lr * weight_decay` first (AdamW). Bias corrections come from the
    step count through the hyperparameters.

    ```mlir
    %w2, %m2, %v2 = nn.adam_update %w, %dw
        state(%m, %v : tensor<4x2xf32>, tensor<4x2xf32>), %hyper
        : tensor<4x2xf32>, tensor<8xf32>
    ```
  }];
}

def NN_AdagradUpdateOp : NN_UpdateOp<"adagrad_update", (ins
    DefaultValuedAttr<F64Attr, "1e-10">:$eps,
    DefaultValuedAttr<F64Attr, "0.0">:$weight_decay)> {
  let summary = "torch.optim.Adagrad";
  let description = [{
    The state is the running sum of squared gradients; the step is
    `clr * grad / (sqrt(sum) + eps)` with the decayed learning rate `clr`
    from the hyperparameters.

    ```mlir
    %w2, %s2 = nn.adagrad_update %w, %dw state(%s : tensor<4x2xf32>), %hyper
        : tensor<4x2xf32>, tensor<8xf32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Data-parallel training
//===----------------------------------------------------------------------===//

/// A point of a training step where the library's collective engine sees a
/// parameter's gradient. Both ops are the identity on a single process and
/// work on their operand's buffer in place: bufferization turns each into a
/// call of the runtime (`__nncc_gradient_ready`, `__nncc_gradient_wait` in
/// lib/Runtime/nncc_comm.c) with the parameter's index and the buffer.
class NN_GradientSyncOp<string mnemonic>
    : NN_Op<mnemonic, [MemoryEffects<[MemRead, MemWrite]>,
                       AllTypesMatch<["grad", "result"]>,
                       DeclareOpInterfaceMethods<BufferizableOpInterface,
                           ["bufferizesToMemoryRead", "bufferizesToMemoryWrite",
                            "getAliasingValues", "bufferize"]>]> {
  let arguments = (ins RankedTensorOf<[F32]>:$grad,
                       ConfinedAttr<I32Attr, [IntNonNegative]>:$param);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad)";
}

def NN_GradientReadyOp : NN_GradientSyncOp<"gradient_ready"> {
  let summary = "Hands a final gradient to the collective engine";
  let description = [{
    `grad` is the whole gradient of parameter `param` (its index among the
    library's parameters): nn-build-training places the op right after the
    gradient is computed, so that its sum across processes can start while
    the rest of the backward pass runs. The result is `grad`, to be read
    only through the matching `nn.gradient_wait`.

    ```mlir
    %r = nn.gradient_ready %dw {param = 0 : i32} : tensor<4x2xf32>
    ```
  }];
}

def NN_AllReduceSumOp : NN_Op<"all_reduce_sum", [Pure,
    SameOperandsAndResultType,
    DeclareOpInterfaceMethods<NN_GradientOpInterface>,
    DeclareOpInterfaceMethods<BufferizableOpInterface,
        ["bufferizesToMemoryRead", "bufferizesToMemoryWrite",
         "getAliasingValues", "bufferize"]>]> {
  let summary = "The sum of a tensor across the processes of a training step";
  let description = [{
    In data-parallel training, the elementwise sum of `input` over the
    processes, computed in place when the step reaches it (the runtime's
    `__nncc_all_reduce_sum`, blocking); the identity on one process and
    outside a training step. Every process runs the same kernel, so they
    reach these ops in the same order. Synchronized batch normalization
    (`--sync-batch-norm`) sums its per-channel sums and its sample count
    with it. Its gradient is the sum of the gradients across the processes,
    marked `of_gradient`: a process whose batch has no loss positions
    contributes zeros to those (its gradients are 0, or 0 times 0/0).

    ```mlir
    %s = nn.all_reduce_sum %partial : tensor<1x8x1x1xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input, UnitAttr:$of_gradient);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_GradientWaitOp : NN_GradientSyncOp<"gradient_wait"> {
  let summary = "The gradient summed across processes, when the sum is done";
  let description = [{
    Waits for the sum of parameter `param`'s gradient across the processes
    (scaled by the library so that it is the global batch's mean) and
    returns it; nn-build-training places it before the optimizer update.

    ```mlir
    %g = nn.gradient_wait %r {param = 0 : i32} : tensor<4x2xf32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// ONNX training operators (ai.onnx.preview.training)
//===----------------------------------------------------------------------===//

/// One tensor's update by an ONNX training operator: inputs R (the learning
/// rate) and T (the step count), the tensor X, its gradient G and its state;
/// results the new X and the new state. Pure functions of their inputs, as
/// the ONNX operators are.
class NN_ONNXUpdateOp<string mnemonic, int numState, dag attrs>
    : NN_Op<mnemonic, [Pure, InferTypeOpAdaptor,
                       AllTypesMatch<["x", "grad"]>]> {
  let arguments = !con((ins NN_ScalarFloatTensor:$r, NN_CountTensor:$t,
                            NN_FloatTensor:$x, NN_FloatTensor:$grad,
                            Variadic<NN_FloatTensor>:$state), attrs);
  let results = (outs NN_FloatTensor:$new_x,
                      Variadic<NN_FloatTensor>:$new_state);
  let assemblyFormat = [{
    $r `,` $t `,` $x `,` $grad `state` `(` $state `:` type($state) `)`
    attr-dict `:` type($r) `,` type($x)
  }];
  let hasVerifier = 1;
  let extraClassDefinition = [{
    unsigned $cppClass::getNumStateTensors() { return }] # numState # [{; }
  }];
  let extraClassDeclaration = [{
    unsigned getNumStateTensors();
  }];
}

def NN_ONNXAdagradOp : NN_ONNXUpdateOp<"onnx_adagrad", 1, (ins
    DefaultValuedAttr<F64Attr, "0.0">:$decay_factor,
    DefaultValuedAttr<F64Attr, "1e-6">:$epsilon,
    DefaultValuedAttr<F64Attr, "0.0">:$norm_coefficient)> {
  let summary = "ONNX Adagrad (ai.onnx.preview.training)";
  let description = [{
    With `r = R / (1 + T * decay_factor)` and
    `g = norm_coefficient * X + G`: `H' = H + g * g` and
    `X' = X - r * g / (sqrt(H') + epsilon)`.

    ```mlir
    %x2, %h2 = nn.onnx_adagrad %r, %t, %x, %g state(%h : tensor<2xf32>)
        : tensor<f32>, tensor<2xf32>
    ```
  }];
}

def NN_ONNXMomentumOp : NN_ONNXUpdateOp<"onnx_momentum", 1, (ins
    F64Attr:$alpha, F64Attr:$beta, F64Attr:$norm_coefficient,
    UnitAttr:$nesterov)> {
  let summary = "ONNX Momentum (ai.onnx.preview.training)";
  let description = [{
    With `g = norm_coefficient * X + G` and `b = T > 0 ? beta : 1`:
    `V' = alpha * V + b * g`, then `X' = X - R * V'`, or with `nesterov`
    `X' = X - R * (g + alpha * V')`.

    ```mlir
    %x2, %v2 = nn.onnx_momentum %r, %t, %x, %g state(%v : tensor<2xf32>)
        {alpha = 0.9, beta = 0.1, norm_coefficient = 0.0}
        : tensor<f32>, tensor<2xf32>
    ```
  }];
}

def NN_ONNXAdamOp : NN_ONNXUpdateOp<"onnx_adam", 2, (ins
    DefaultValuedAttr<F64Attr, "0.9">:$alpha,
    DefaultValuedAttr<F64Attr, "0.999">:$beta,
    DefaultValuedAttr<F64Attr, "1e-6">:$epsilon,
    DefaultValuedAttr<F64Attr, "0.0">:$norm_coefficient,
    DefaultValuedAttr<F64Attr, "0.0">:$norm_coefficient_post)> {
  let summary = "ONNX Adam (ai.onnx.preview.training)";
  let description = [{
    With `g = norm_coefficient * X + G`: `V' = alpha * V + (1 - alpha) * g`,
    `H' = beta * H + (1 - beta) * g * g`, the rate
    `r = T > 0 ? R * sqrt(1 - beta^T) / (1 - alpha^T) : R`, and
    `X' = (1 - norm_coefficient_post) * (X - r * V' / (sqrt(H') + epsilon))`.

    ```mlir
    %x2, %v2, %h2 = nn.onnx_adam %r, %t, %x, %g
        state(%v, %h : tensor<2xf32>, tensor<2xf32>) : tensor<f32>, tensor<2xf32>
    ```
  }];
}

#endif // NNCC_DIALECT_NN_IR_NNOPS_TD
