//===- NNInterfaces.td - Interfaces of the nn dialect ------*- tablegen -*-===//
//
// The GradientOpInterface is how reverse-mode autodiff (nn-build-training)
// asks an op for its vector-Jacobian product.
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_DIALECT_NN_IR_NNINTERFACES_TD
#define NNCC_DIALECT_NN_IR_NNINTERFACES_TD

include "mlir/IR/OpBase.td"

def NN_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let description = [{
    An op that can be differentiated in reverse mode. Given the gradient of the
    loss with respect to each result, the op builds, out of other `nn` ops, the
    gradient with respect to each operand (its vector-Jacobian product).

    Gradients of broadcast operands must already be reduced back to the
    operand's type. Operands that are not differentiable (integer counts,
    indices) get a null gradient.
  }];
  let cppNamespace = "::nncc::nn";

  let methods = [
    InterfaceMethod<[{
        Builds the gradients of the operands at the builder's insertion point.
        `resultGradients` has one value per result, of the result's type.
        On success, `operandGradients` holds one value per operand, of the
        operand's type, or null for an operand that gets no gradient.
      }],
      "::mlir::LogicalResult", "buildGradient",
      (ins "::mlir::OpBuilder &":$builder,
           "::mlir::ValueRange":$resultGradients,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGradients)>,
  ];
}

#endif // NNCC_DIALECT_NN_IR_NNINTERFACES_TD
