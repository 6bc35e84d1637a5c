#!/usr/bin/env python3
"""Writes the example that ships with bertctl: a small made-up review dataset (train/test CSV, labels
positive/negative/neutral) and a WordPiece vocabulary covering it, all from the templates below.
Deterministic: running it again gives the same bytes.  Usage: python3 make_example.py"""
import csv
import random
import re

rng = random.Random(20261122)
things = ["phone", "laptop", "camera", "blender", "kettle", "backpack", "jacket", "lamp", "keyboard", "speaker",
          "charger", "headset", "mattress", "toaster", "printer", "router", "watch", "bike", "tent", "drill"]
good = ["great", "excellent", "wonderful", "fantastic", "reliable", "sturdy", "comfortable", "fast", "quiet", "beautiful"]
bad = ["terrible", "awful", "broken", "flimsy", "useless", "noisy", "slow", "cheap", "disappointing", "faulty"]
meh = ["okay", "average", "fine", "ordinary", "acceptable", "decent", "standard", "plain", "basic", "typical"]
pos = ["I love this {t}, it is {a}.", "The {t} is {a} and works perfectly.", "Really {a} {t}, would buy again!",
       "Five stars: a {a} {t}.", "My new {t} is {a}; very happy with it.", "What a {a} {t} for the price."]
neg = ["This {t} is {a}, do not buy it.", "The {t} arrived {a} and I want a refund.", "Very {a} {t}; it stopped working.",
       "One star: {a} {t}.", "I regret buying this {a} {t}.", "Avoid this {t}, it is {a}!"]
neu = ["The {t} is {a}, nothing special.", "An {a} {t}, it does the job.", "It is a {a} {t}.",
       "The {t} works; it is {a} I guess.", "Three stars: {a} {t}.", "Delivery was on time and the {t} is {a}."]

def rows(n):
    out = []
    for _ in range(n):
        label = rng.choice(["positive", "negative", "neutral"])
        tpl, adj = {"positive": (pos, good), "negative": (neg, bad), "neutral": (neu, meh)}[label]
        text = rng.choice(tpl).format(t=rng.choice(things), a=rng.choice(adj))
        out.append((text[0].upper() + text[1:], label))
    return out

for name, n in (("reviews-train.csv", 600), ("reviews-test.csv", 150)):
    with open(name, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["text", "label"])
        w.writerows(rows(n))

# Vocabulary: the special tokens, every word of the templates (lower-cased), every printable ASCII
# character, and each character again as a "##" continuation, so any ASCII word can be spelled.
words = set()
for group in (things, good, bad, meh, pos, neg, neu):
    for s in group:
        words.update(re.findall(r"[a-z]+|[^a-z\s{}]", s.lower().replace("{t}", "").replace("{a}", "")))
chars = [chr(c) for c in range(33, 127) if not chr(c).isupper()]
vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + ["##" + c for c in chars if c.isalnum()]
vocab += sorted(w for w in words if w not in vocab)
with open("../../vocab/example-vocab.txt", "w") as f:
    f.write("\n".join(vocab) + "\n")
