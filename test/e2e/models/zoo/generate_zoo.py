#!/usr/bin/python3
"""Generates the goldens of models that users already have: torchvision's
CNN classics and vision transformer, torch.nn.TransformerEncoderLayer and a
1-D convolutional keyword-spotting model.

Run with Debian's interpreter (python3-torch 1.13, python3-torchvision 0.14,
python3-onnx):
    /usr/bin/python3 test/e2e/models/zoo/generate_zoo.py

Each model is exported as a user would (torch.onnx.export in training mode,
no constant folding, dynamic batch) at opsets 14 and 17. Its weights are too
large to commit, so NAME.onnx holds the exported graph with the weights'
data left out and NAME.json the recipe that Inputs/fill_model.py fills them
and the training data from, deterministically; PyTorch trains from exactly
those values. Dropout is set to 0 (its masks come from PyTorch's generator)
and so is EfficientNet's stochastic depth. NAME.golden's header names the
model, the recipe and nncc's options (read by Inputs/run_golden.py); then
PyTorch's loss at every step of SGD-momentum, the first batch's outputs in
eval mode before training, and for every parameter and running statistic
its size, its sum of magnitudes after training and SAMPLED evenly spaced
elements before and after, and after in float64 ('trained NAME NUMEL SUM i
before after exact ...'), so that the test checks each element's update.

Deep networks with batch norm over a few samples are sensitive to rounding:
a step of float32 can move the next loss by a percent from float64's. The
generator trains each model in float64 too and refuses a golden whose
float32 losses drift more than MAX_DRIFT from it: what nncc must match is
what float32 arithmetic determines; and the parameters' check allows each
tensor ten times the distance of PyTorch's float32 values from float64's.
"""
import copy
import json
import os
import sys
import tempfile

import onnx
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Inputs"))
import fill_model  # noqa: E402

SAMPLES = 20
BATCH = 8
EPOCHS = 1  # three steps, the last a partial batch of 4
CLASSES = 10
SAMPLED = 16
# Token ids of the text classifiers are in [0, VOCABULARY).
VOCABULARY = 50
# A golden checks nncc against what float32 can reproduce: PyTorch's own
# float32 losses must stay this close to its float64 ones at every step.
MAX_DRIFT = 2e-5


class KeywordSpotter(torch.nn.Module):
    """A 1-D convolutional keyword spotter on 40 MFCC channels x 49 frames."""

    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv1d(40, 32, 5, padding=2), torch.nn.BatchNorm1d(32),
            torch.nn.ReLU(), torch.nn.MaxPool1d(2),
            torch.nn.Conv1d(32, 32, 3, padding=1, bias=False),
            torch.nn.BatchNorm1d(32), torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool1d(1))
        self.classifier = torch.nn.Linear(32, CLASSES)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class EncoderClassifier(torch.nn.Module):
    """torch.nn.TransformerEncoderLayer (batch first), mean over the
    sequence, a linear classifier."""

    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.TransformerEncoderLayer(
            32, 4, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.classifier = torch.nn.Linear(32, CLASSES)

    def forward(self, x):
        return self.classifier(self.encoder(x).mean(dim=1))


class GroupNormCNN(torch.nn.Module):
    """Convolutions with torch.nn.GroupNorm, which exports as Reshape,
    InstanceNormalization, Reshape and the affine Mul and Add."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.norm1 = torch.nn.GroupNorm(2, 8)
        self.conv2 = torch.nn.Conv2d(8, 12, 3, stride=2, padding=1)
        self.norm2 = torch.nn.GroupNorm(3, 12)
        self.classifier = torch.nn.Linear(12, CLASSES)

    def forward(self, x):
        h = torch.relu(self.norm1(self.conv1(x)))
        h = torch.relu(self.norm2(self.conv2(h)))
        return self.classifier(h.mean(dim=(2, 3)))


class TextClassifier(torch.nn.Module):
    """An embedding, a 2-layer recurrent network (the second layer
    bidirectional, as a stack of two torch modules), the last step's hidden
    state, a linear classifier."""

    def __init__(self, kind):
        super().__init__()
        recurrent = getattr(torch.nn, kind)
        self.embedding = torch.nn.Embedding(VOCABULARY, 16)
        self.first = recurrent(16, 24, batch_first=True)
        self.second = recurrent(24, 16, batch_first=True, bidirectional=True)
        self.classifier = torch.nn.Linear(32, CLASSES)

    def forward(self, tokens):
        h, _ = self.first(self.embedding(tokens))
        h, _ = self.second(h)
        return self.classifier(h[:, -1])


def vit():
    return torchvision.models.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=2,
        hidden_dim=32, mlp_dim=64, num_classes=CLASSES)


# name, constructor, one sample's input shape, SGD-momentum's learning rate:
# the largest of 0.01, 0.003, 0.001, ... at which PyTorch's float32 losses
# stay within MAX_DRIFT of its float64 ones over the three steps. Batch norm
# over a few samples of 2x2 maps makes MobileNet's and ShuffleNet's steps far
# more sensitive to rounding than the others'.
MODELS = (
    ("resnet18", lambda: torchvision.models.resnet18(num_classes=CLASSES),
     (3, 64, 64), 0.01),
    ("mobilenet_v2", lambda: torchvision.models.mobilenet_v2(num_classes=CLASSES),
     (3, 64, 64), 0.00003),
    ("squeezenet1_1", lambda: torchvision.models.squeezenet1_1(num_classes=CLASSES),
     (3, 64, 64), 0.01),
    ("shufflenet_v2_x0_5",
     lambda: torchvision.models.shufflenet_v2_x0_5(num_classes=CLASSES),
     (3, 64, 64), 0.00003),
    ("efficientnet_b0", lambda: torchvision.models.efficientnet_b0(
        num_classes=CLASSES, stochastic_depth_prob=0.0), (3, 64, 64), 0.001),
    ("vit", vit, (3, 32, 32), 0.01),
    ("kws", KeywordSpotter, (40, 49), 0.01),
    ("encoder_layer", EncoderClassifier, (8, 32), 0.01),
    ("groupnorm_cnn", GroupNormCNN, (3, 16, 16), 0.01),
    ("lstm_text", lambda: TextClassifier("LSTM"), (12,), 0.01),
    ("gru_text", lambda: TextClassifier("GRU"), (12,), 0.01),
)
# Models whose input is token ids rather than floats.
TOKEN_MODELS = {"lstm_text", "gru_text"}


def recipe_entry(tensor):
    """The recipe of one initial value: its constant, or uniform numbers of
    its variance. An all-zero matrix (ViT's head, its class token) gets
    PyTorch's default bound 1/sqrt(fan_in) instead, so that gradients reach
    the layers before it from the first step."""
    t = tensor.detach().double()
    if t.numel() > 0 and bool((t == t.flatten()[0]).all()):
        if t.dim() < 2 or t.flatten()[0].item() != 0.0:
            return ["constant", t.flatten()[0].item()]
        bound = 1.0 / (t[0].numel() ** 0.5)
    else:
        bound = (3.0 ** 0.5) * t.std().item()
    return ["uniform", float(torch.tensor(bound, dtype=torch.float32).item())]


def sample(before, after, exact):
    """SAMPLED evenly spaced (index, initial value, final value, final value
    in float64) tuples of three flat lists."""
    n = len(after)
    indices = range(n) if n <= SAMPLED else [
        k * (n - 1) // (SAMPLED - 1) for k in range(SAMPLED)]
    return [(i, before[i], after[i], exact[i]) for i in indices]


def train(model, x, y, lr):
    """SGD-momentum over the samples in order, in minibatches of BATCH (the
    last partial): the loss of each step."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses = []
    for _ in range(EPOCHS):
        for first in range(0, SAMPLES, BATCH):
            optimizer.zero_grad()
            loss = loss_fn(model(x[first:first + BATCH]), y[first:first + BATCH])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


def generate(name, make, shape, lr, opset, seed):
    torch.manual_seed(seed)
    model = make()
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    stem = "%s_opset%d" % (name, opset)
    tokens = name in TOKEN_MODELS
    with tempfile.TemporaryDirectory() as tmp:
        exported = os.path.join(tmp, "model.onnx")
        torch.onnx.export(
            model, (torch.zeros(BATCH, *shape, dtype=torch.int64 if tokens
                                else torch.float32),), exported,
            opset_version=opset, do_constant_folding=False,
            training=torch.onnx.TrainingMode.TRAINING,
            input_names=["x"], output_names=["y"],
            dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
        graph = onnx.load(exported)

    recipe = {"initializers": {},
              "inputs": [dict({"name": "x", "shape": [SAMPLES, *shape]},
                              **({"classes": VOCABULARY} if tokens else {}))],
              "targets": [{"name": "y", "shape": [SAMPLES],
                           "classes": CLASSES}]}
    names = {t.name for t in graph.graph.initializer}
    for key, tensor in initial.items():
        if key.endswith("num_batches_tracked"):
            continue
        if key not in names:
            raise SystemExit("%s: %s is not an initializer" % (stem, key))
        recipe["initializers"][key] = recipe_entry(tensor)

    # PyTorch starts from the values the test fills in.
    filled = onnx.ModelProto()
    filled.CopyFrom(graph)
    fill_model.fill(filled, recipe)
    values = {t.name: onnx.numpy_helper.to_array(t)
              for t in filled.graph.initializer}
    with torch.no_grad():
        for key, tensor in model.state_dict().items():
            if key in recipe["initializers"]:
                tensor.copy_(torch.from_numpy(values[key].copy()))
            elif key.endswith("num_batches_tracked"):
                tensor.zero_()
    for tensor in graph.graph.initializer:
        if tensor.name in recipe["initializers"]:
            tensor.ClearField("raw_data")
            tensor.ClearField("float_data")
    onnx.save(graph, os.path.join(HERE, stem + ".onnx"))
    with open(os.path.join(HERE, stem + ".json"), "w") as f:
        json.dump(recipe, f, indent=1, sort_keys=True)
        f.write("\n")

    arrays = fill_model.samples(recipe)
    x = torch.from_numpy(arrays[0])
    y = torch.from_numpy(arrays[1])
    # The same steps in float64 first: how far rounding alone moves them.
    exact = copy.deepcopy(model).double()
    exact_losses = train(exact, x if tokens else x.double(), y, lr)

    start = {k: v.detach().double().flatten().tolist()
             for k, v in model.state_dict().items()}
    model.eval()
    with torch.no_grad():
        predictions = model(x[:BATCH]).flatten().tolist()
    model.train()
    losses = train(model, x, y, lr)
    drift = max(abs(a - b) / abs(b) for a, b in zip(losses, exact_losses))
    if drift > MAX_DRIFT:
        raise SystemExit("%s: float32 losses %s drift %.2g from float64's %s; "
                         "lower its learning rate" % (stem, losses, drift,
                                                      exact_losses))

    with open(os.path.join(HERE, stem + ".golden"), "w") as f:
        f.write("# model: %s.onnx\n" % stem)
        f.write("# weights: %s.json\n" % stem)
        f.write("# samples: %d epochs: %d\n" % (SAMPLES, EPOCHS))
        f.write("# nncc: --batch=%d --loss=cross-entropy --optimizer=sgd "
                "--momentum=0.9 --lr=%g\n" % (BATCH, lr))
        f.write("# sampled: %d\n" % SAMPLED)
        f.write("# torch %s, torchvision %s, opset %d; float32 against "
                "float64: %.2g\n" % (torch.__version__,
                                      torchvision.__version__, opset, drift))
        for loss in losses:
            f.write("%.9g\n" % loss)
        f.write("predictions %s\n" % " ".join("%.9g" % v for v in predictions))
        exact_state = exact.state_dict()
        for key, tensor in model.state_dict().items():
            if key.endswith("num_batches_tracked"):
                continue
            flat = tensor.detach().double().flatten()
            triples = " ".join("%d %.9g %.9g %.9g" % t for t in sample(
                start[key], flat.tolist(), exact_state[key].flatten().tolist()))
            f.write("trained %s %d %.9g %s\n"
                    % (key, flat.numel(), flat.abs().sum().item(), triples))
    print("%s: %d initializers, losses %s, float32 drift %.2g" % (
        stem, len(recipe["initializers"]),
        " ".join("%.4f" % v for v in losses), drift))


def main():
    only = set(sys.argv[1:])
    for index, (name, make, shape, lr) in enumerate(MODELS):
        if only and name not in only:
            continue
        for opset in (14, 17):
            generate(name, make, shape, lr, opset, 1000 + index)


if __name__ == "__main__":
    main()
