#!/usr/bin/env python3
"""Checks the paraphrase evaluation set in this folder (stdlib only).

    python3 services/vector/eval/check.py

Rules, each a hard failure (exit status 1, one line per violation on stderr):
  * faqs.jsonl: at least 100 documents, each {"id": "p-NNN", "text": ...}, ids and texts unique.
  * paraphrases.jsonl: at least 220 {"question", "faq"} pairs; every faq id exists; every FAQ has
    2 or 3 paraphrases; questions unique.
  * A paraphrase shares no content word with its FAQ's text. Words are lowercase runs of letters
    and digits; STOP_WORDS (function words) and single characters do not count; two words are the
    same word when their crude stems (stem() below: common suffixes and a final e stripped, a
    doubled final consonant undone) are equal, or share a prefix of at least 6 characters that
    covers all but at most the last character of the shorter stem (subscribe/subscription).
  * offtopic.jsonl: at least 60 {"question"} lines, unique, none of them a paraphrase question.
"""

import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent

MIN_FAQS = 100
MIN_PARAPHRASES = 220
MIN_OFFTOPIC = 60
PARAPHRASES_PER_FAQ = (2, 3)

STOP_WORDS = frozenset(
    """
    a an the this that these those there here
    i me my mine myself you your yours we us our ours it its they them their he him his she her
    someone somebody anyone anybody everyone something anything everything nothing one ones
    am is are was were be been being do does did done doing have has had having
    can could will would shall should may might must
    to of in on at by for from with without about into onto over under after before up down out
    off through via per than as between during within across around until upon
    and or but if so then because when while where why how what which who whom whose whether
    not no nor don doesn didn isn aren wasn weren won wouldn can cannot couldn shouldn haven hasn
    all any some each every other another more most much many few only just also too very again
    still yet already ever now soon once own same such both either neither else
    please yes ok okay s t ll ve re d m
    """.split()
)

SUFFIXES = (
    "ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "ers", "er", "ed", "es",
    "ly", "s",
)
VOWELS_AND_DOUBLES = set("aeiouls")
WORD = re.compile(r"[a-z0-9]+")


def stem(word: str) -> str:
    """A crude stem: strips up to two suffixes, a doubled final consonant and a final e."""
    for _ in range(2):
        for suffix in SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                if suffix in ("ies", "ied"):
                    word += "y"
                break
        else:
            break
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in VOWELS_AND_DOUBLES:
        word = word[:-1]
    if len(word) >= 4 and word.endswith("e"):
        word = word[:-1]
    return word


def content_stems(text: str) -> dict[str, str]:
    """Stem -> first word with that stem, for the content words of `text`."""
    stems: dict[str, str] = {}
    for word in WORD.findall(text.lower()):
        if len(word) > 1 and word not in STOP_WORDS:
            stems.setdefault(stem(word), word)
    return stems


def same_word(a: str, b: str) -> bool:
    """Equal stems, or stems sharing a prefix of 6+ characters that covers all but at most the
    last character of the shorter one (subscrib/subscription, registr/regist)."""
    if a == b:
        return True
    common = len(os.path.commonprefix((a, b)))
    return common >= 6 and common >= min(len(a), len(b)) - 1


def load(name: str, errors: list[str]) -> list[dict]:
    rows = []
    path = HERE / name
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{name}:{number}: not JSON: {e}")
            continue
        if not isinstance(row, dict):
            errors.append(f"{name}:{number}: not an object")
            continue
        row["_line"] = number
        rows.append(row)
    return rows


def main() -> int:
    errors: list[str] = []
    faqs = load("faqs.jsonl", errors)
    paraphrases = load("paraphrases.jsonl", errors)
    offtopic = load("offtopic.jsonl", errors)

    by_id: dict[str, str] = {}
    texts: set[str] = set()
    for row in faqs:
        where = f"faqs.jsonl:{row['_line']}"
        fid, text = row.get("id"), row.get("text")
        if set(row) != {"id", "text", "_line"}:
            errors.append(f"{where}: keys must be id and text")
        if not isinstance(fid, str) or not re.fullmatch(r"p-\d{3}", fid):
            errors.append(f"{where}: bad id {fid!r}")
            continue
        if not isinstance(text, str) or not text.strip():
            errors.append(f"{where}: empty text")
            continue
        if fid in by_id:
            errors.append(f"{where}: duplicate id {fid}")
        if text in texts:
            errors.append(f"{where}: duplicate text")
        by_id[fid] = text
        texts.add(text)

    per_faq: Counter[str] = Counter()
    questions: set[str] = set()
    for row in paraphrases:
        where = f"paraphrases.jsonl:{row['_line']}"
        question, fid = row.get("question"), row.get("faq")
        if set(row) != {"question", "faq", "_line"}:
            errors.append(f"{where}: keys must be question and faq")
        if not isinstance(question, str) or not question.strip():
            errors.append(f"{where}: empty question")
            continue
        if question in questions:
            errors.append(f"{where}: duplicate question {question!r}")
        questions.add(question)
        if fid not in by_id:
            errors.append(f"{where}: unknown faq {fid!r}")
            continue
        per_faq[fid] += 1
        faq_stems = content_stems(by_id[fid])
        for q_stem, q_word in content_stems(question).items():
            for f_stem, f_word in faq_stems.items():
                if same_word(q_stem, f_stem):
                    errors.append(
                        f"{where}: shares '{q_word}' with {fid} ('{f_word}'): {question!r}"
                    )

    low, high = PARAPHRASES_PER_FAQ
    for fid in sorted(by_id):
        if not low <= per_faq[fid] <= high:
            errors.append(f"{fid}: {per_faq[fid]} paraphrases, want {low} to {high}")

    seen_offtopic: set[str] = set()
    for row in offtopic:
        where = f"offtopic.jsonl:{row['_line']}"
        question = row.get("question")
        if set(row) != {"question", "_line"}:
            errors.append(f"{where}: key must be question")
        if not isinstance(question, str) or not question.strip():
            errors.append(f"{where}: empty question")
            continue
        if question in seen_offtopic:
            errors.append(f"{where}: duplicate {question!r}")
        if question in questions:
            errors.append(f"{where}: also a paraphrase question {question!r}")
        seen_offtopic.add(question)

    for name, count, minimum in (
        ("faqs", len(by_id), MIN_FAQS),
        ("paraphrases", len(paraphrases), MIN_PARAPHRASES),
        ("off-topic questions", len(seen_offtopic), MIN_OFFTOPIC),
    ):
        if count < minimum:
            errors.append(f"{count} {name}, want at least {minimum}")

    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        print(f"check.py: {len(errors)} violation(s)", file=sys.stderr)
        return 1
    print(
        f"check.py: ok: {len(by_id)} faqs, {len(paraphrases)} paraphrases, "
        f"{len(seen_offtopic)} off-topic questions"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
