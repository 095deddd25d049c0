#!/usr/bin/python3
"""Exports examples/text/words_lstm.onnx: a character-level LSTM that tells
which of five languages a word is in, with fixed initial weights and a
dynamic batch. Run with Debian's python3-torch:
    /usr/bin/python3 examples/text/make_model.py
The vocabulary and the word length must agree with train_words.c.
"""
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
# 0 pads a word on the left; 1-26 are a-z, 27-49 the accented letters of
# train_words.c's alphabet.
VOCABULARY = 50
LENGTH = 12
LANGUAGES = 5


class WordsLSTM(torch.nn.Module):
    """[N, 12] character ids -> [N, 5] language logits: embedding, one LSTM
    layer, the last step's hidden state, a linear classifier."""

    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(VOCABULARY, 16)
        self.lstm = torch.nn.LSTM(16, 96, batch_first=True)
        self.classifier = torch.nn.Linear(96, LANGUAGES)

    def forward(self, chars):
        h, _ = self.lstm(self.embedding(chars))
        return self.classifier(h[:, -1])


torch.manual_seed(5)
torch.onnx.export(WordsLSTM(), (torch.zeros(4, LENGTH, dtype=torch.int64),),
                  os.path.join(HERE, "words_lstm.onnx"),
                  opset_version=17, do_constant_folding=False,
                  training=torch.onnx.TrainingMode.TRAINING,
                  input_names=["chars"], output_names=["logits"],
                  dynamic_axes={"chars": {0: "N"}, "logits": {0: "N"}})
