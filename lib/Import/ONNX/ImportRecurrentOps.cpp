//===- ImportRecurrentOps.cpp - ONNX LSTM, GRU and RNN --------------------===//
//
// The recurrent layers import unrolled over their (static) sequence length
// as nn ops, so that their gradient through time is the autodiff of those
// ops. Each gate has its own slice of the weights: the input projections of
// all steps are one GEMM per gate, hoisted out of the recurrence; a step is
// one GEMM per gate on the previous hidden state, then elementwise math that
// nn-fuse makes one kernel.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

using namespace mlir;
using namespace nncc;
using namespace nncc::nn;
using namespace nncc::onnx_import;

namespace {
/// What differs between LSTM, GRU and RNN.
struct RecurrentKind {
  /// Gates, in ONNX's order of the weights' rows (LSTM iofc, GRU zrh).
  int64_t gates;
  /// Activations per direction, and their defaults.
  SmallVector<StringRef, 3> defaultActivations;
  /// Outputs: Y, Y_h and (LSTM) Y_c.
  int maxOutputs;
};

/// One direction's weights, sliced per gate.
struct DirectionWeights {
  SmallVector<Value, 4> input;     // [H, I]
  SmallVector<Value, 4> recurrent; // [H, H]
  SmallVector<Value, 4> inputBias, recurrentBias; // [H], null when absent
  SmallVector<Value, 3> peephole;  // LSTM [H]: i, o, f; null when absent
};
} // namespace

/// Applies a gate activation by its ONNX name.
static Value activate(OpBuilder &builder, Location loc, StringRef name,
                      Value x) {
  if (name == "Sigmoid")
    return builder.create<SigmoidOp>(loc, x);
  if (name == "Tanh")
    return builder.create<TanhOp>(loc, x);
  return builder.create<ReluOp>(loc, x);
}

/// Rows [offset, offset + rows) of `w[direction]`, a [D, R, C] tensor, as
/// [rows, C]; of a [D, R] tensor as [rows].
static Value sliceRows(OpBuilder &builder, Location loc, Value w,
                       int64_t direction, int64_t offset, int64_t rows) {
  RankedTensorType type = tensorType(w);
  SmallVector<int64_t> starts(type.getRank(), 0), sizes(type.getShape()),
      strides(type.getRank(), 1);
  starts[0] = direction;
  sizes[0] = 1;
  starts[1] = offset;
  sizes[1] = rows;
  Value slice = builder.createOrFold<SliceOp>(loc, w, starts, sizes, strides);
  return builder.createOrFold<ReshapeOp>(
      loc, slice, ArrayRef<int64_t>(sizes).drop_front());
}

/// `a + b` where either may be null (absent).
static Value addOptional(OpBuilder &builder, Location loc, Value a, Value b) {
  if (!a)
    return b;
  if (!b)
    return a;
  return builder.create<AddOp>(loc, a, b);
}

LogicalResult Importer::importRecurrent(const onnx::NodeProto &node,
                                        Location loc) {
  StringRef op = node.op_type();
  RecurrentKind kind =
      op == "LSTM"  ? RecurrentKind{4, {"Sigmoid", "Tanh", "Tanh"}, 3}
      : op == "GRU" ? RecurrentKind{3, {"Sigmoid", "Tanh"}, 2}
                    : RecurrentKind{1, {"Tanh"}, 2};
  bool isLSTM = op == "LSTM", isGRU = op == "GRU";
  int maxInputs = isLSTM ? 8 : 6;
  NodeAttributes attrs(node);
  SmallVector<StringRef> known = {"activations", "direction", "hidden_size",
                                  "clip", "activation_alpha",
                                  "activation_beta", "layout"};
  if (isLSTM)
    known.push_back("input_forget");
  if (isGRU)
    known.push_back("linear_before_reset");
  if (failed(checkArity(node, loc, 3, maxInputs, 0, kind.maxOutputs)) ||
      failed(attrs.checkKnown(loc, node, known)))
    return failure();
  for (StringRef unsupported : {"clip", "activation_alpha", "activation_beta"})
    if (attrs.lookup(unsupported))
      return emitError(loc) << op << " attribute '" << unsupported
                            << "' is not supported";
  FailureOr<std::string> direction =
      attrs.getString(loc, "direction", "forward");
  FailureOr<int64_t> hidden = attrs.getInt(loc, "hidden_size", -1);
  FailureOr<int64_t> layout = attrs.getInt(loc, "layout", 0);
  FailureOr<int64_t> inputForget = attrs.getInt(loc, "input_forget", 0);
  FailureOr<int64_t> linearBeforeReset =
      attrs.getInt(loc, "linear_before_reset", 0);
  if (failed(direction) || failed(hidden) || failed(layout) ||
      failed(inputForget) || failed(linearBeforeReset))
    return failure();
  if (*direction != "forward" && *direction != "reverse" &&
      *direction != "bidirectional")
    return emitError(loc) << op << " direction '" << *direction
                          << "' must be forward, reverse or bidirectional";
  if (*layout != 0 && *layout != 1)
    return emitError(loc) << op << " layout " << *layout << " must be 0 or 1";
  if (*inputForget != 0 && *inputForget != 1)
    return emitError(loc) << op << " input_forget " << *inputForget
                          << " must be 0 or 1";
  if (*linearBeforeReset != 0 && *linearBeforeReset != 1)
    return emitError(loc) << op << " linear_before_reset "
                          << *linearBeforeReset << " must be 0 or 1";
  int64_t numDirections = *direction == "bidirectional" ? 2 : 1;

  // Activations: one list for every direction.
  const onnx::AttributeProto *activationsAttr = attrs.lookup("activations");
  SmallVector<std::string> activations;
  if (activationsAttr) {
    if (activationsAttr->type() != onnx::AttributeProto::STRINGS)
      return emitError(loc) << op << " attribute 'activations' must be a "
                                     "list of strings";
    activations.assign(activationsAttr->strings().begin(),
                       activationsAttr->strings().end());
  } else {
    for (int64_t d = 0; d < numDirections; ++d)
      for (StringRef name : kind.defaultActivations)
        activations.push_back(name.str());
  }
  size_t perDirection = kind.defaultActivations.size();
  if (activations.size() != perDirection * numDirections)
    return emitError(loc) << op << " has " << activations.size()
                          << " activations; it needs "
                          << perDirection * numDirections << " ("
                          << perDirection << " per direction)";
  for (const std::string &name : activations)
    if (name != "Sigmoid" && name != "Tanh" && name != "Relu")
      return emitError(loc) << op << " activation '" << name
                            << "' is not supported (Sigmoid, Tanh and Relu "
                               "are)";

  FailureOr<Value> x = floatOperand(node, 0, loc);
  FailureOr<Value> w = failed(x) ? x : floatOperand(node, 1, loc);
  FailureOr<Value> r = failed(w) ? w : floatOperand(node, 2, loc);
  if (failed(r))
    return failure();
  RankedTensorType xType = tensorType(*x);
  if (xType.getRank() != 3)
    return emitError(loc) << op << " input X has shape "
                          << shapeString(xType.getShape())
                          << "; it must be 3-D";
  Value sequence = *x;
  if (*layout == 1)
    sequence = builder.create<TransposeOp>(loc, sequence,
                                           ArrayRef<int64_t>{1, 0, 2});
  int64_t steps = tensorType(sequence).getDimSize(0),
          batch = tensorType(sequence).getDimSize(1),
          features = tensorType(sequence).getDimSize(2);
  int64_t h = *hidden, g = kind.gates;
  if (h <= 0)
    return emitError(loc) << op << " needs a positive hidden_size";
  auto checkShape = [&](Value v, StringRef what,
                        ArrayRef<int64_t> expected) -> LogicalResult {
    if (tensorType(v).getShape() != expected)
      return emitError(loc) << op << " " << what << " has shape "
                            << shapeString(tensorType(v).getShape())
                            << "; it must be " << shapeString(expected);
    return success();
  };
  if (failed(checkShape(*w, "W", {numDirections, g * h, features})) ||
      failed(checkShape(*r, "R", {numDirections, g * h, h})))
    return failure();
  Value bias, initialH, initialC, peephole;
  auto optionalInput = [&](int index, StringRef what,
                           ArrayRef<int64_t> shape, Value &into) {
    if (!hasInput(node, index))
      return success();
    FailureOr<Value> value = floatOperand(node, index, loc);
    if (failed(value) || failed(checkShape(*value, what, shape)))
      return failure();
    into = *value;
    return success();
  };
  if (hasInput(node, 4)) {
    // PyTorch never exports sequence_lens; every sequence is T long.
    FailureOr<DenseElementsAttr> lens = constantOperand(node, 4, loc);
    if (failed(lens))
      return failure();
    if (lens->getNumElements() != batch ||
        !llvm::all_of(lens->getValues<APInt>(), [&](const APInt &len) {
          return len.getSExtValue() == steps;
        }))
      return emitError(loc) << op << " sequence_lens shorter than the "
                            << "sequence (" << steps
                            << " steps) are not supported";
  }
  SmallVector<int64_t> stateShape = {numDirections, batch, h};
  if (*layout == 1)
    stateShape = {batch, numDirections, h};
  if (failed(optionalInput(3, "B", {numDirections, 2 * g * h}, bias)) ||
      failed(optionalInput(5, "initial_h", stateShape, initialH)) ||
      (isLSTM &&
       (failed(optionalInput(6, "initial_c", stateShape, initialC)) ||
        failed(optionalInput(7, "P", {numDirections, 3 * h}, peephole)))))
    return failure();
  if (*layout == 1) {
    if (initialH)
      initialH = builder.create<TransposeOp>(loc, initialH,
                                             ArrayRef<int64_t>{1, 0, 2});
    if (initialC)
      initialC = builder.create<TransposeOp>(loc, initialC,
                                             ArrayRef<int64_t>{1, 0, 2});
  }

  // All steps' input projections at once, per gate: [T, B, H].
  Value rows = builder.createOrFold<ReshapeOp>(
      loc, sequence, ArrayRef<int64_t>{steps * batch, features});
  SmallVector<Value> outputs, finalH, finalC;
  for (int64_t d = 0; d < numDirections; ++d) {
    DirectionWeights weights;
    for (int64_t gate = 0; gate < g; ++gate) {
      weights.input.push_back(sliceRows(builder, loc, *w, d, gate * h, h));
      weights.recurrent.push_back(sliceRows(builder, loc, *r, d, gate * h, h));
      weights.inputBias.push_back(
          bias ? sliceRows(builder, loc, bias, d, gate * h, h) : Value());
      weights.recurrentBias.push_back(
          bias ? sliceRows(builder, loc, bias, d, (g + gate) * h, h) : Value());
    }
    if (peephole)
      for (int64_t p = 0; p < 3; ++p)
        weights.peephole.push_back(sliceRows(builder, loc, peephole, d, p * h, h));
    ArrayRef<std::string> act =
        ArrayRef<std::string>(activations).slice(d * perDirection, perDirection);

    // GRU's candidate with linear_before_reset keeps its recurrent bias
    // inside the reset product; every other bias pair adds up front.
    SmallVector<Value, 4> projections;
    for (int64_t gate = 0; gate < g; ++gate) {
      Value p = builder.create<MatMulOp>(loc, rows, weights.input[gate],
                                         false, true);
      Value b = weights.inputBias[gate];
      if (!(isGRU && gate == 2 && *linearBeforeReset))
        b = addOptional(builder, loc, b, weights.recurrentBias[gate]);
      if (b)
        p = builder.create<AddOp>(loc, p, b);
      projections.push_back(builder.createOrFold<ReshapeOp>(
          loc, p, ArrayRef<int64_t>{steps, batch, h}));
    }
    // Direction d's initial state, [B, H]; null (zero) when absent.
    auto state = [&](Value initial) -> Value {
      return initial ? sliceRows(builder, loc, initial, d, 0, batch) : Value();
    };
    Value hPrev = state(initialH), cPrev = state(initialC);
    bool reverse = *direction == "reverse" || d == 1;
    SmallVector<Value> hidden(steps);
    for (int64_t i = 0; i < steps; ++i) {
      int64_t t = reverse ? steps - 1 - i : i;
      auto atStep = [&](Value projection) {
        SmallVector<int64_t> starts = {t, 0, 0}, sizes = {1, batch, h},
                             strides = {1, 1, 1};
        Value slice = builder.createOrFold<SliceOp>(loc, projection, starts,
                                                    sizes, strides);
        return builder.createOrFold<ReshapeOp>(loc, slice,
                                               ArrayRef<int64_t>{batch, h});
      };
      auto recurrentTerm = [&](int64_t gate, Value state) -> Value {
        if (!state)
          return Value();
        return builder.create<MatMulOp>(loc, state, weights.recurrent[gate],
                                        false, true);
      };
      auto preactivation = [&](int64_t gate) {
        return addOptional(builder, loc, atStep(projections[gate]),
                           recurrentTerm(gate, hPrev));
      };
      Value hNext;
      if (isLSTM) {
        // Gates i, o, f, c; peepholes i, o, f.
        auto peep = [&](int64_t p, Value c) -> Value {
          if (weights.peephole.empty() || !c)
            return Value();
          return builder.create<MulOp>(loc, weights.peephole[p], c);
        };
        Value in = activate(builder, loc, act[0],
                            addOptional(builder, loc, preactivation(0),
                                        peep(0, cPrev)));
        Value forget;
        if (*inputForget) {
          Type elem = tensorType(in).getElementType();
          forget = builder.create<SubOp>(
              loc, createScalarConstant(builder, loc, elem, 1.0), in);
        } else {
          forget = activate(builder, loc, act[0],
                            addOptional(builder, loc, preactivation(2),
                                        peep(2, cPrev)));
        }
        Value candidate = activate(builder, loc, act[1], preactivation(3));
        Value cNext = builder.create<MulOp>(loc, in, candidate);
        if (cPrev)
          cNext = builder.create<AddOp>(
              loc, builder.create<MulOp>(loc, forget, cPrev), cNext);
        Value out = activate(builder, loc, act[0],
                             addOptional(builder, loc, preactivation(1),
                                         peep(1, cNext)));
        hNext = builder.create<MulOp>(loc, out,
                                      activate(builder, loc, act[2], cNext));
        cPrev = cNext;
      } else if (isGRU) {
        Value update = activate(builder, loc, act[0], preactivation(0));
        Value reset = activate(builder, loc, act[0], preactivation(1));
        Value recurrent;
        if (hPrev && *linearBeforeReset) {
          recurrent = addOptional(builder, loc, recurrentTerm(2, hPrev),
                                  weights.recurrentBias[2]);
          recurrent = builder.create<MulOp>(loc, reset, recurrent);
        } else if (hPrev) {
          recurrent = recurrentTerm(
              2, builder.create<MulOp>(loc, reset, hPrev));
        } else if (*linearBeforeReset && weights.recurrentBias[2]) {
          recurrent = builder.create<MulOp>(loc, reset,
                                            weights.recurrentBias[2]);
        }
        Value candidate = activate(
            builder, loc, act[1],
            addOptional(builder, loc, atStep(projections[2]), recurrent));
        // (1 - z) * n + z * h, as PyTorch computes it: n + z * (h - n).
        Value difference =
            hPrev ? builder.create<SubOp>(loc, hPrev, candidate).getResult()
                  : builder.create<NegOp>(loc, candidate).getResult();
        hNext = builder.create<AddOp>(
            loc, candidate, builder.create<MulOp>(loc, update, difference));
      } else {
        hNext = activate(builder, loc, act[0], preactivation(0));
      }
      hPrev = hNext;
      hidden[t] = hNext;
    }
    // Y's slice of this direction, [T, 1, B, H].
    SmallVector<Value> rowsOfY;
    for (Value step : hidden)
      rowsOfY.push_back(builder.createOrFold<ReshapeOp>(
          loc, step, ArrayRef<int64_t>{1, 1, batch, h}));
    outputs.push_back(steps == 1 ? rowsOfY[0]
                                 : builder.createOrFold<ConcatOp>(
                                       loc, rowsOfY, 0));
    finalH.push_back(builder.createOrFold<ReshapeOp>(
        loc, hPrev, ArrayRef<int64_t>{1, batch, h}));
    if (isLSTM)
      finalC.push_back(builder.createOrFold<ReshapeOp>(
          loc, cPrev, ArrayRef<int64_t>{1, batch, h}));
  }
  auto joined = [&](SmallVector<Value> &parts, int64_t axis) -> Value {
    return parts.size() == 1 ? parts[0]
                             : builder.createOrFold<ConcatOp>(loc, parts, axis);
  };
  Value y = joined(outputs, 1), yH = joined(finalH, 0),
        yC = isLSTM ? joined(finalC, 0) : Value();
  if (*layout == 1) {
    y = builder.create<TransposeOp>(loc, y, ArrayRef<int64_t>{2, 0, 1, 3});
    yH = builder.create<TransposeOp>(loc, yH, ArrayRef<int64_t>{1, 0, 2});
    if (yC)
      yC = builder.create<TransposeOp>(loc, yC, ArrayRef<int64_t>{1, 0, 2});
  }
  return defineOutputs(node, loc, {y, yH, yC});
}
