#!/usr/bin/env python3
"""Writes people-places.conll (24 tagged sentences) and tiny-squad.json (7 questions): small,
made-up data for the token-classification and question-answering CLI tests. Deterministic."""
import json
import random

random.seed(7)
people = ["Alice Moreau", "Bob Tanaka", "Chen Wei", "Dara Okafor", "Emil Novak", "Fatima Zahra", "Greta Lund", "Hugo Silva"]
places = ["Paris", "Lagos", "Osaka", "Lima", "Oslo", "Quito", "Porto", "Hanoi"]
orgs = ["Acme Corp", "Globex", "Initech", "Umbrella Group"]
templates = ["{P} moved to {L} last year .", "{P} works for {O} in {L} .", "Yesterday {P} visited {L} with friends .",
             "{O} opened an office in {L} .", "{P} met {Q} at the {O} party ."]


def tagged(name, kind):
    words = name.split()
    return [(w, ("B-" if i == 0 else "I-") + kind) for i, w in enumerate(words)]


sentences = []
for _ in range(24):
    t = random.choice(templates)
    p = random.choice(people)
    q = random.choice([x for x in people if x != p])
    l, o = random.choice(places), random.choice(orgs)
    out = []
    for tok in t.split():
        out += {"{P}": tagged(p, "PER"), "{Q}": tagged(q, "PER"), "{L}": tagged(l, "LOC"),
                "{O}": tagged(o, "ORG")}.get(tok, [(tok, "O")])
    sentences.append("\n".join(f"{w}\t{t}" for w, t in out))
open("people-places.conll", "w").write("\n\n".join(sentences) + "\n")

contexts = [
    ("Alice Moreau was born in Lyon in 1984 and moved to Oslo in 2010, where she founded Globex.",
     [("Where was Alice Moreau born?", "Lyon"), ("When did she move to Oslo?", "2010"), ("What did she found?", "Globex")]),
    ("The river Douro flows through Porto before it reaches the Atlantic Ocean near the old harbour.",
     [("Which city does the Douro flow through?", "Porto"), ("Which ocean does the Douro reach?", "the Atlantic Ocean")]),
    ("Chen Wei plays the cello in an orchestra in Osaka and teaches music on Saturdays.",
     [("What instrument does Chen Wei play?", "the cello"), ("When does Chen Wei teach?", "on Saturdays")]),
]
data, n = [], 0
for ctx, qa in contexts:
    qas = []
    for q, a in qa:
        n += 1
        qas.append({"id": f"q{n}", "question": q, "answers": [{"text": a, "answer_start": ctx.index(a)}]})
    data.append({"title": f"t{len(data)}", "paragraphs": [{"context": ctx, "qas": qas}]})
json.dump({"version": "1.1", "data": data}, open("tiny-squad.json", "w"), indent=1, ensure_ascii=False)
