// RUN: nncc-opt %s -split-input-file -verify-diagnostics

func.func @broadcast_incompatible(%a: tensor<4x3xf32>, %b: tensor<2xf32>) {
  // expected-error @+1 {{operand shapes [4,3] and [2] are not broadcast-compatible}}
  %0 = nn.add %a, %b : tensor<4x3xf32>, tensor<2xf32>
  return
}

// -----

func.func @broadcast_element_types(%a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+2 {{operands have different element types 'f32' and 'f16'}}
  // expected-error @+1 {{'nn.mul' op failed to infer returned types}}
  %0 = "nn.mul"(%a, %b) : (tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return
}

// -----

func.func @broadcast_wrong_result(%a: tensor<4x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{'nn.sub' op inferred type(s) 'tensor<4x3xf32>' are incompatible with return type(s) of operation 'tensor<3xf32>'}}
  // expected-error @+1 {{'nn.sub' op failed to infer returned types}}
  %0 = "nn.sub"(%a, %b) : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @unary_not_float(%a: tensor<4xi64>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of floating-point values}}
  %0 = "nn.tanh"(%a) : (tensor<4xi64>) -> tensor<4xi64>
  return
}

// -----

func.func @matmul_rank(%a: tensor<4xf32>, %b: tensor<2x5xf32>) {
  // expected-error @+2 {{operands must have rank 2 or more, got [4] and [2,5]}}
  // expected-error @+1 {{'nn.matmul' op failed to infer returned types}}
  %0 = "nn.matmul"(%a, %b) : (tensor<4xf32>, tensor<2x5xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @matmul_inner(%a: tensor<4x3xf32>, %b: tensor<2x5xf32>) {
  // expected-error @+1 {{inner dimensions differ: [4,3] times [2,5]}}
  %0 = nn.matmul %a, %b : tensor<4x3xf32>, tensor<2x5xf32>
  return
}

// -----

func.func @matmul_inner_transposed(%a: tensor<4x3xf32>, %b: tensor<3x5xf32>) {
  // expected-error @+1 {{inner dimensions differ: [4,3] (transposed) times [3,5]}}
  %0 = nn.matmul %a transposed, %b : tensor<4x3xf32>, tensor<3x5xf32>
  return
}

// -----

func.func @matmul_element_types(%a: tensor<4x3xf32>, %b: tensor<3x5xf16>) {
  // expected-error @+2 {{operands have different element types}}
  // expected-error @+1 {{'nn.matmul' op failed to infer returned types}}
  %0 = "nn.matmul"(%a, %b) : (tensor<4x3xf32>, tensor<3x5xf16>) -> tensor<4x5xf32>
  return
}

// -----

func.func @reduce_axis_range(%a: tensor<4x3xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = nn.reduce_sum %a axes [2] : tensor<4x3xf32>
  return
}

// -----

func.func @reduce_axis_repeated(%a: tensor<4x3xf32>) {
  // expected-error @+1 {{axis 0 is repeated}}
  %0 = nn.reduce_sum %a axes [0, 0] : tensor<4x3xf32>
  return
}

// -----

func.func @reshape_count(%a: tensor<4x3xf32>) {
  // expected-error @+1 {{cannot reshape [4,3] to [5,2]: the element counts differ}}
  %0 = nn.reshape %a to [5, 2] : tensor<4x3xf32>
  return
}

// -----

func.func @reshape_negative(%a: tensor<4x3xf32>) {
  // expected-error @+1 {{shape [-1,12] has a negative dimension}}
  %0 = nn.reshape %a to [-1, 12] : tensor<4x3xf32>
  return
}

// -----

func.func @broadcast_to_shape(%a: tensor<4x3xf32>) {
  // expected-error @+1 {{cannot broadcast [4,3] to [4,2]}}
  %0 = nn.broadcast_to %a to [4, 2] : tensor<4x3xf32>
  return
}

// -----

func.func @broadcast_to_lower_rank(%a: tensor<4x3xf32>) {
  // expected-error @+1 {{cannot broadcast [4,3] to [3]}}
  %0 = nn.broadcast_to %a to [3] : tensor<4x3xf32>
  return
}

// -----

func.func @constant_dynamic() {
  // expected-error @+1 {{value must be a statically shaped tensor}}
  %0 = "nn.constant"() {value = dense<1.0> : vector<4xf32>} : () -> tensor<4xf32>
  return
}

// -----

func.func @mse_no_batch(%y: tensor<f32>, %n: tensor<i64>) {
  // expected-error @+1 {{'nn.mse_loss' op input must have a batch dimension}}
  %0 = nn.mse_loss %y, %y, %n : tensor<f32>, tensor<i64>
  return
}

// -----

func.func @mse_target_type(%y: tensor<4x1xf32>, %t: tensor<4x2xf32>, %n: tensor<i64>) {
  // expected-error @+1 {{'nn.mse_loss' op failed to verify that all of {input, target} have same type}}
  %0 = "nn.mse_loss"(%y, %t, %n) : (tensor<4x1xf32>, tensor<4x2xf32>, tensor<i64>) -> tensor<f32>
  return
}

// -----

func.func @mse_count_type(%y: tensor<4x1xf32>, %n: tensor<i32>) {
  // expected-error @+1 {{operand #2 must be 0D tensor of 64-bit signless integer values}}
  %0 = "nn.mse_loss"(%y, %y, %n) : (tensor<4x1xf32>, tensor<4x1xf32>, tensor<i32>) -> tensor<f32>
  return
}

// -----

func.func @mse_grad_no_batch(%y: tensor<f32>, %n: tensor<i64>, %g: tensor<f32>) {
  // expected-error @+1 {{'nn.mse_loss_grad' op input must have a batch dimension}}
  %0 = nn.mse_loss_grad %y, %y, %n, %g : tensor<f32>, tensor<i64>, tensor<f32>
  return
}

// -----

func.func @mse_grad_element_type(%y: tensor<4xf32>, %n: tensor<i64>, %g: tensor<f16>) {
  // expected-error @+1 {{grad element type differs from the input's}}
  %0 = nn.mse_loss_grad %y, %y, %n, %g : tensor<4xf32>, tensor<i64>, tensor<f16>
  return
}

// -----

func.func @sgd_hyper_size(%p: tensor<4xf32>, %h: tensor<3xf32>) {
  // expected-error @+1 {{hyperparameters must be tensor<10xf32>}}
  %0 = nn.sgd_update %p, %p, %h : tensor<4xf32>, tensor<3xf32>
  return
}

// -----

func.func @sgd_grad_type(%p: tensor<4xf32>, %g: tensor<3xf32>, %h: tensor<10xf32>) {
  // expected-error @+1 {{failed to verify that all of {param, grad} have same type}}
  %0 = "nn.sgd_update"(%p, %g, %h) : (tensor<4xf32>, tensor<3xf32>, tensor<10xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @sgd_state_count(%p: tensor<4xf32>, %h: tensor<10xf32>) {
  // expected-error @+1 {{expects 1 state tensors, got 0}}
  %0 = nn.sgd_update %p, %p, %h {momentum = 0.9} : tensor<4xf32>, tensor<10xf32>
  return
}

// -----

func.func @adam_state_type(%p: tensor<4xf32>, %s: tensor<2xf32>, %h: tensor<10xf32>) {
  // expected-error @+1 {{state type 'tensor<2xf32>' differs from parameter type 'tensor<4xf32>'}}
  %0:3 = nn.adam_update %p, %p state(%s, %s : tensor<2xf32>, tensor<2xf32>), %h : tensor<4xf32>, tensor<10xf32>
  return
}

// -----

func.func @adagrad_state_count(%p: tensor<4xf32>, %h: tensor<10xf32>) {
  // expected-error @+1 {{expects 1 state tensors, got 2}}
  %0:3 = nn.adagrad_update %p, %p state(%p, %p : tensor<4xf32>, tensor<4xf32>), %h : tensor<4xf32>, tensor<10xf32>
  return
}

// -----

func.func @ce_rank(%x: tensor<4xf32>, %t: tensor<i64>, %n: tensor<i64>) {
  // expected-error @+1 {{input must have a batch and a class dimension}}
  %0 = nn.cross_entropy_loss %x, %t, %n : tensor<4xf32>, tensor<i64>, tensor<i64>
  return
}

// -----

func.func @ce_target_shape(%x: tensor<4x3xf32>, %t: tensor<3xi64>, %n: tensor<i64>) {
  // expected-error @+1 {{target shape [3] must be the input shape [4, 3] without its class dimension}}
  %0 = nn.cross_entropy_loss %x, %t, %n : tensor<4x3xf32>, tensor<3xi64>, tensor<i64>
  return
}

// -----

func.func @ce_smoothing(%x: tensor<4x3xf32>, %t: tensor<4xi64>, %n: tensor<i64>) {
  // expected-error @+1 {{label smoothing 1.500000e+00 is not in [0, 1]}}
  %0 = nn.cross_entropy_loss %x, %t, %n {label_smoothing = 1.5} : tensor<4x3xf32>, tensor<4xi64>, tensor<i64>
  return
}

// -----

func.func @ce_grad_type(%x: tensor<4x3xf32>, %t: tensor<4xi64>, %n: tensor<i64>, %g: tensor<f16>) {
  // expected-error @+1 {{grad element type differs from the input's}}
  %0 = nn.cross_entropy_loss_grad %x, %t, %n, %g : tensor<4x3xf32>, tensor<4xi64>, tensor<i64>, tensor<f16>
  return
}

// -----

func.func @bce_no_batch(%x: tensor<f32>, %n: tensor<i64>) {
  // expected-error @+1 {{'nn.bce_with_logits_loss' op input must have a batch dimension}}
  %0 = nn.bce_with_logits_loss %x, %x, %n : tensor<f32>, tensor<i64>
  return
}

// -----

func.func @bce_grad_type(%x: tensor<4xf32>, %n: tensor<i64>, %g: tensor<f16>) {
  // expected-error @+1 {{grad element type differs from the input's}}
  %0 = nn.bce_with_logits_loss_grad %x, %x, %n, %g : tensor<4xf32>, tensor<i64>, tensor<f16>
  return
}

// -----

func.func @relu_grad_types(%x: tensor<4xf32>, %g: tensor<3xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "nn.relu_grad"(%x, %g) : (tensor<4xf32>, tensor<3xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @transpose_not_permutation(%a: tensor<4x3xf32>) {
  // expected-error @+1 {{perm [0,0] is not a permutation of the 2 dimensions}}
  %0 = nn.transpose %a perm [0, 0] : tensor<4x3xf32>
  return
}

// -----

func.func @transpose_rank(%a: tensor<4x3xf32>) {
  // expected-error @+1 {{perm [1,0,2] is not a permutation of the 2 dimensions}}
  %0 = nn.transpose %a perm [1, 0, 2] : tensor<4x3xf32>
  return
}

// -----

func.func @activation_grad_kind(%x: tensor<4xf32>) {
  // expected-error @+1 {{kind must be 'leaky_relu' or 'elu', got 'gelu'}}
  %0 = nn.activation_grad %x, %x {kind = "gelu", alpha = 1.0} : tensor<4xf32>
  return
}

// -----

func.func @conv_groups(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+2 {{groups 2 must divide the 3 input channels and the 4 filters}}
  // expected-error @+1 {{'nn.conv' op failed to infer returned types}}
  %0 = "nn.conv"(%x, %w) {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 2 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @pool_window(%x: tensor<1x3x2x2xf32>) {
  // expected-error @+1 {{the window (extent 3) is larger than the padded input (2) in spatial dimension 0}}
  %0 = nn.pool max %x kernel [3, 1] strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] : tensor<1x3x2x2xf32>
  return
}

// -----

func.func @slice_bounds(%x: tensor<4x6xf32>) {
  // expected-error @+1 {{dimension 1: 3 elements from 2 by 2 do not fit in size 6}}
  %0 = nn.slice %x starts [0, 2] sizes [4, 3] strides [1, 2] : tensor<4x6xf32>
  return
}

// -----

func.func @slice_add_bounds(%x: tensor<4x6xf32>, %g: tensor<4x3xf32>) {
  // expected-error @+1 {{dimension 1: 3 elements from 2 by 2 do not fit in size 6}}
  %0 = nn.slice_add %x, %g starts [0, 2] strides [1, 2] : tensor<4x6xf32>, tensor<4x3xf32>
  return
}

// -----

func.func @slice_add_rank(%x: tensor<4x6xf32>, %g: tensor<3xf32>) {
  // expected-error @+1 {{starts, sizes and strides need one entry per dimension (2)}}
  %0 = nn.slice_add %x, %g starts [0, 2] strides [1, 2] : tensor<4x6xf32>, tensor<3xf32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<4x6xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = nn.softmax %x axis 2 : tensor<4x6xf32>
  return
}

// -----

func.func @gather_grad_shape(%g: tensor<2x4xf32>, %i: tensor<3xi64>) {
  // expected-error @+1 {{gradient of shape [2,4] is not that of a gather from [5,4], which is [3,4]}}
  %0 = nn.gather_grad %g, %i to [5, 4] axis 0 : tensor<2x4xf32>, tensor<3xi64>
  return
}

// -----

func.func @cast_shape(%x: tensor<4xf32>) {
  // expected-error @+1 {{cannot change the shape [4] to [2]}}
  %0 = nn.cast %x : tensor<4xf32> to tensor<2xi64>
  return
}

// -----

func.func @dropout_ratio() -> tensor<4xf32> {
  // expected-error @+1 {{ratio must be in [0, 1), got 1}}
  %m = nn.dropout_mask {ratio = 1.0 : f64, seed = 0 : i64} : tensor<4xf32>
  return %m : tensor<4xf32>
}

// -----

func.func @dropout_hyper(%h: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{hyperparameters must be tensor<10xf32>}}
  %m = nn.dropout_mask step(%h : tensor<4xf32>) {ratio = 0.5 : f64, seed = 0 : i64} : tensor<4xf32>
  return %m : tensor<4xf32>
}

// -----

func.func @sample_mask_shape() -> tensor<4x2xf32> {
  // expected-error @+1 {{result must have shape [N, 1, ...], got [4,2]}}
  %m = nn.sample_mask : tensor<4x2xf32>
  return %m : tensor<4x2xf32>
}

// -----

func.func @running_update_not_param(%x: tensor<2xf32>) {
  // expected-error @+1 {{updates a value that is not a parameter argument of the function}}
  nn.running_update %x, %x : tensor<2xf32>
  return
}

// -----

func.func @training_select_types(%a: tensor<2xf32>, %b: tensor<3xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{all of {training, inference, result} have same type}}
  %y = "nn.training_select"(%a, %b) : (tensor<2xf32>, tensor<3xf32>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}

// -----

func.func @clip_reversed(%x: tensor<4xf32>) {
  // expected-error @+1 {{'nn.clip' op bounds [6.000000e+00, 0.000000e+00] are not an interval}}
  %0 = nn.clip %x {min = 6.0, max = 0.0} : tensor<4xf32>
  return
}

// -----

func.func @clip_nan_min(%x: tensor<4xf32>) {
  // expected-error @+1 {{'nn.clip' op bounds [nan, 6.000000e+00] are not an interval}}
  %0 = nn.clip %x {min = 0x7FF8000000000000 : f64, max = 6.0} : tensor<4xf32>
  return
}

// -----

func.func @clip_nan_max(%x: tensor<4xf32>) {
  // expected-error @+1 {{'nn.clip' op bounds [0.000000e+00, nan] are not an interval}}
  %0 = nn.clip %x {min = 0.0, max = 0x7FF8000000000000 : f64} : tensor<4xf32>
  return
}

// -----

func.func @clip_grad_reversed(%x: tensor<4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'nn.clip_grad' op bounds [6.000000e+00, 0.000000e+00] are not an interval}}
  %0 = nn.clip_grad %x, %g {min = 6.0, max = 0.0} : tensor<4xf32>
  return
}

// -----

func.func @compare_complex(%x: tensor<2xcomplex<f32>>) {
  // expected-error @+1 {{'nn.compare' op operand #0 must be ranked tensor of floating-point or signless integer values}}
  %0 = nn.compare lt %x, %x : tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>
  return
}

// -----

func.func @equal_complex(%x: tensor<2xcomplex<f32>>) {
  // expected-error @+1 {{'nn.equal' op operand #0 must be ranked tensor of floating-point or signless integer values}}
  %0 = nn.equal %x, %x : tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>
  return
}

// -----

func.func @clip_grad_types(%x: tensor<4xf32>, %g: tensor<3xf32>) {
  // expected-error @+1 {{'nn.clip_grad' op requires the same type for all operands and results}}
  %0 = "nn.clip_grad"(%x, %g) {min = 0.0, max = 6.0} : (tensor<4xf32>, tensor<3xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @maximum_not_float(%a: tensor<4xi64>) {
  // expected-error @+1 {{'nn.maximum' op operand #0 must be ranked tensor of floating-point values}}
  %0 = "nn.maximum"(%a, %a) : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  return
}

// -----

func.func @minimum_broadcast(%a: tensor<4x3xf32>, %b: tensor<2xf32>) {
  // expected-error @+1 {{operand shapes [4,3] and [2] are not broadcast-compatible}}
  %0 = nn.minimum %a, %b : tensor<4x3xf32>, tensor<2xf32>
  return
}

// -----

func.func @compare_element_types(%a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+2 {{operands have different element types}}
  // expected-error @+1 {{'nn.compare' op failed to infer returned types}}
  %0 = "nn.compare"(%a, %b) {predicate = 0 : i64} : (tensor<4xf32>, tensor<4xf16>) -> tensor<4xi1>
  return
}

// -----

func.func @compare_broadcast(%a: tensor<4x3xf32>, %b: tensor<2xf32>) {
  // expected-error @+1 {{operand shapes [4,3] and [2] are not broadcast-compatible}}
  %0 = nn.compare gt %a, %b : tensor<4x3xf32>, tensor<2xf32>
  return
}

// -----

func.func @compare_result_type(%a: tensor<4xf32>) {
  // expected-error @+1 {{'nn.compare' op result #0 must be tensor of 1-bit signless integer values}}
  %0 = "nn.compare"(%a, %a) {predicate = 0 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @compare_predicate(%a: tensor<4xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'predicate' [lt, le, gt, ge]}}
  %0 = nn.compare ne %a, %a : tensor<4xf32>, tensor<4xf32>
  return
}

// -----

func.func @logic_not_boolean(%a: tensor<4xf32>) {
  // expected-error @+1 {{'nn.logic' op operand #0 must be tensor of 1-bit signless integer values}}
  %0 = "nn.logic"(%a, %a) {kind = 0 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  return
}

// -----

func.func @logic_broadcast(%a: tensor<4x3xi1>, %b: tensor<2xi1>) {
  // expected-error @+1 {{operand shapes [4,3] and [2] are not broadcast-compatible}}
  %0 = nn.logic or %a, %b : tensor<4x3xi1>, tensor<2xi1>
  return
}

// -----

func.func @logic_kind(%a: tensor<4xi1>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'kind' [and, or, xor]}}
  %0 = nn.logic nand %a, %a : tensor<4xi1>, tensor<4xi1>
  return
}

// -----

func.func @not_boolean(%a: tensor<4xf32>) {
  // expected-error @+1 {{'nn.not' op operand #0 must be tensor of 1-bit signless integer values}}
  %0 = "nn.not"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @gradient_ready_f64(%g: tensor<4xf64>) {
  // expected-error @+1 {{'nn.gradient_ready' op operand #0 must be ranked tensor of 32-bit float values}}
  %0 = "nn.gradient_ready"(%g) {param = 0 : i32} : (tensor<4xf64>) -> tensor<4xf64>
  return
}

// -----

func.func @gradient_wait_negative(%g: tensor<4xf32>) {
  // expected-error @+1 {{'nn.gradient_wait' op attribute 'param' failed to satisfy constraint: 32-bit signless integer attribute whose value is non-negative}}
  %0 = nn.gradient_wait %g {param = -1 : i32} : tensor<4xf32>
  return
}

// -----

func.func @gradient_wait_type(%g: tensor<4xf32>) {
  // expected-error @+1 {{'nn.gradient_wait' op failed to verify that all of {grad, result} have same type}}
  %0 = "nn.gradient_wait"(%g) {param = 0 : i32} : (tensor<4xf32>) -> tensor<2x2xf32>
  return
}
