#!/usr/bin/python3
"""Generates the PyTorch-exported models and goldens of test/e2e/models.

Run with Debian's interpreter (python3-torch 1.13, python3-onnx):
    /usr/bin/python3 test/e2e/models/generate.py

For each model and opset it writes NAME.onnx (torch.onnx.export in training
mode, no constant folding, dynamic batch), NAME.data (the training samples:
each input, then the target, as raw little-endian float32 or int64, stacked
along dim 0) and NAME.golden: PyTorch's loss at every step of EPOCHS epochs
over the samples in order, in minibatches of BATCH with a final partial
batch (DataLoader(drop_last=False)); the outputs of the first batch in eval
mode before training; then the parameters and running statistics after
training.
"""
import os

import onnx
import onnx.numpy_helper
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = 10
BATCH = 4
EPOCHS = 7  # 3 steps per epoch: 21 steps
LR = 0.05
VOCAB = 16
CONTEXT = 8


class MLP(torch.nn.Module):
    """Linear layers with ReLU and sigmoid: exports as Gemm."""

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(8, 16)
        self.fc2 = torch.nn.Linear(16, 8)
        self.fc3 = torch.nn.Linear(8, 3)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        h = torch.sigmoid(self.fc2(h))
        return self.fc3(h)


class SequenceMLP(torch.nn.Module):
    """Linear layers on [N, T, D] inputs: exports as MatMul + Add."""

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(6, 12)
        self.fc2 = torch.nn.Linear(12, 2)

    def forward(self, x):
        h = torch.tanh(self.fc1(x))
        return self.fc2(h) * 0.5 - h.sum(dim=-1, keepdim=True) / 12.0


class CNN(torch.nn.Module):
    """Two conv + max-pool stages, then a linear layer: Conv, Relu,
    MaxPool, Flatten, Gemm."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(4, 6, 3)
        self.fc = torch.nn.Linear(6, 3)

    def forward(self, x):
        h = torch.nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        h = torch.nn.functional.max_pool2d(torch.relu(self.conv2(h)), 2)
        return self.fc(torch.flatten(h, 1))


class CNNBatchNorm(torch.nn.Module):
    """Conv, BatchNorm2d (batch statistics in training, running statistics
    updated by each step and used in eval mode), ReLU, max and average
    pooling, linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = torch.nn.BatchNorm2d(4)
        self.conv2 = torch.nn.Conv2d(4, 6, 3, padding=1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(6, momentum=0.2)
        self.fc = torch.nn.Linear(6 * 2 * 2, 3)

    def forward(self, x):
        h = torch.nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        h = torch.nn.functional.avg_pool2d(torch.relu(self.bn2(self.conv2(h))), 2)
        return self.fc(torch.flatten(h, 1))


class Block(torch.nn.Module):
    """A pre-norm transformer block on [N, T, D]: layer norm, causal
    self-attention from MatMul, Softmax and a tril mask with masked_fill,
    GELU MLP, residuals. Shapes come from x.shape, so the export has
    Shape/Gather/Concat subgraphs that nncc folds."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = torch.nn.LayerNorm(dim)
        self.qkv = torch.nn.Linear(dim, 3 * dim)
        self.proj = torch.nn.Linear(dim, dim)
        self.ln2 = torch.nn.LayerNorm(dim)
        self.fc1 = torch.nn.Linear(dim, 2 * dim)
        self.fc2 = torch.nn.Linear(2 * dim, dim)

    def forward(self, x):
        n, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q = q.reshape(n, t, self.heads, d // self.heads).transpose(1, 2)
        k = k.reshape(n, t, self.heads, d // self.heads).transpose(1, 2)
        v = v.reshape(n, t, self.heads, d // self.heads).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / (d // self.heads) ** 0.5
        mask = torch.tril(torch.ones(t, t))
        scores = scores.masked_fill(mask == 0, float("-inf"))
        a = torch.softmax(scores, dim=-1) @ v
        x = x + self.proj(a.transpose(1, 2).reshape(n, t, d))
        return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.ln2(x))))


class Attention(torch.nn.Module):
    """One two-head block on float features, then a linear output."""

    def __init__(self, dim=8, heads=2):
        super().__init__()
        self.block = Block(dim, heads)
        self.out = torch.nn.Linear(dim, 2)

    def forward(self, x):
        return self.out(self.block(x))


class LanguageModel(torch.nn.Module):
    """A small pre-norm transformer language model: token and position
    embeddings (Gather), a single-head then a multi-head causal block, final
    layer norm, logits over the vocabulary."""

    def __init__(self, vocab=VOCAB, dim=16, context=CONTEXT, heads=(1, 4)):
        super().__init__()
        self.tokens = torch.nn.Embedding(vocab, dim)
        self.positions = torch.nn.Embedding(context, dim)
        self.blocks = torch.nn.ModuleList(Block(dim, h) for h in heads)
        self.ln = torch.nn.LayerNorm(dim)
        self.head = torch.nn.Linear(dim, vocab)

    def forward(self, tokens):
        x = self.tokens(tokens) + self.positions(
            torch.arange(tokens.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))


def raw(tensor):
    """Little-endian bytes in the tensor's ONNX element type."""
    dtype = "<i8" if tensor.dtype == torch.int64 else "<f4"
    return tensor.numpy().astype(dtype).tobytes()


def generate(name, model, x, y, opset, loss="mse"):
    path = os.path.join(HERE, name)
    torch.onnx.export(
        model, (x[:BATCH],), path + ".onnx",
        opset_version=opset, do_constant_folding=False,
        training=torch.onnx.TrainingMode.TRAINING,
        input_names=["x"], output_names=["y"],
        dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
    )
    # Tracing in training mode runs the model once (batch norm updates its
    # running statistics): start from exactly what the export holds.
    state = model.state_dict()
    exported = {t.name: onnx.numpy_helper.to_array(t)
                for t in onnx.load(path + ".onnx").graph.initializer}
    for key, value in state.items():
        if key in exported:
            value.copy_(torch.from_numpy(exported[key].copy()))
        elif not key.endswith("num_batches_tracked"):
            raise SystemExit("%s: %s is not an initializer" % (name, key))
    with open(path + ".data", "wb") as f:
        f.write(raw(x))
        f.write(raw(y))

    # Inference before training (eval mode): nncc_forward's output.
    model.eval()
    with torch.no_grad():
        predictions = model(x[:BATCH]).flatten().tolist()
    model.train()

    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    if loss == "mse":
        loss_fn = torch.nn.MSELoss()
    else:  # Class logits on the last axis, class targets.
        ce = torch.nn.CrossEntropyLoss()
        def loss_fn(logits, target):
            return ce(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
    losses = []
    for _ in range(EPOCHS):
        for first in range(0, SAMPLES, BATCH):
            xb, yb = x[first:first + BATCH], y[first:first + BATCH]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with open(path + ".golden", "w") as f:
        f.write("# torch %s, opset %d: loss of each step, predictions of the "
                "first batch before training (eval mode), then parameters and "
                "running statistics after training\n"
                % (torch.__version__, opset))
        for loss in losses:
            f.write("%.9g\n" % loss)
        f.write("predictions %s\n" % " ".join("%.9g" % v for v in predictions))
        for pname, p in model.state_dict().items():
            if pname.endswith("num_batches_tracked"):
                continue
            values = " ".join("%.9g" % v for v in p.detach().flatten().tolist())
            f.write("param %s %s\n" % (pname, values))


def main():
    for opset in (13, 14, 15, 16, 17):
        torch.manual_seed(opset)
        x = torch.randn(SAMPLES, 8)
        y = torch.randn(SAMPLES, 3)
        generate("mlp_opset%d" % opset, MLP(), x, y, opset)
    # name, model, seed, the shapes of one sample's input and target
    for name, model, seed, x_shape, y_shape in (
            ("seq_mlp", SequenceMLP, 100, (5, 6), (5, 2)),
            ("cnn", CNN, 200, (1, 8, 8), (3,)),
            ("attention", Attention, 300, (5, 8), (5, 2)),
            ("cnn_bn", CNNBatchNorm, 400, (1, 8, 8), (3,))):
        for opset in (14, 17):
            torch.manual_seed(seed + opset)
            x = torch.randn(SAMPLES, *x_shape)
            y = torch.randn(SAMPLES, *y_shape)
            generate("%s_opset%d" % (name, opset), model(), x, y, opset)
    for opset in (14, 17):
        torch.manual_seed(500 + opset)
        text = torch.randint(0, VOCAB, (SAMPLES, CONTEXT + 1))
        generate("lm_opset%d" % opset, LanguageModel(), text[:, :-1],
                 text[:, 1:], opset, loss="cross-entropy")


if __name__ == "__main__":
    main()
