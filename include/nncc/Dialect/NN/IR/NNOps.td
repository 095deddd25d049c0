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
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
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
def NN_ScalarFloatTensor : 0DTensorOf<[AnyFloat]>;
def NN_CountTensor : 0DTensorOf<[I64]>;

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
  let summary = "Matrix product of two 2-D tensors, optionally transposed";
  let description = [{
    `result = op(lhs) * op(rhs)` where `op` transposes its matrix when
    `transpose_lhs` or `transpose_rhs` is set. With `op(lhs)` of shape `[M, K]`
    and `op(rhs)` of shape `[K, N]`, the result has shape `[M, N]`.

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

def NN_NegOp : NN_UnaryOp<"neg"> {
  let summary = "Elementwise negation";
  let description = [{
    ```mlir
    %y = nn.neg %x : tensor<4x3xf32>
    ```
  }];
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

def NN_ReluGradOp : NN_Op<"relu_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "Gradient of relu: `grad` where `input > 0`, else 0";
  let description = [{
    The vector-Jacobian product of `nn.relu`, as PyTorch defines it: the
    gradient at 0 is 0.

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
  let arguments = (ins NN_FloatTensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input `to` $shape attr-dict `:` type($input)";
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

//===----------------------------------------------------------------------===//
// Optimizer updates
//===----------------------------------------------------------------------===//

def NN_SGDUpdateOp : NN_Op<"sgd_update", [Pure,
    AllTypesMatch<["param", "grad", "result"]>]> {
  let summary = "Plain stochastic gradient descent: param - lr * grad";
  let description = [{
    The update of `torch.optim.SGD` without momentum or weight decay. The
    learning rate is a tensor so that it can change between steps.

    ```mlir
    %w2 = nn.sgd_update %w, %dw, %lr : tensor<4x2xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$param, NN_FloatTensor:$grad,
                       NN_ScalarFloatTensor:$lr);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$param `,` $grad `,` $lr attr-dict `:` type($param) `,` type($lr)";
  let hasVerifier = 1;
}

#endif // NNCC_DIALECT_NN_IR_NNOPS_TD
