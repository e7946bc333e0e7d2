#!/usr/bin/env bash
# Fetches the static embedding model the vector service can use instead of `hashing-v1`:
# WordLlama "l2_supercat" at 256 dimensions (a 32000 x 256 float16 token-embedding matrix over the
# LLaMA 2 BPE vocabulary; a sentence vector is the mean of its tokens' rows, L2-normalised).
#   MODEL_DIR=$(bash scripts/fetch-model.sh [DIR])     (default DIR: models/wordllama-l2-256)
#
# Why this way: the machines reach package registries only, and the service must never download
# anything at run time. The MIT-licensed `wordllama` wheel on PyPI ships the weights and the
# tokenizer inside the package, so the wheel is fetched with the ordinary client
# (`pip download --no-deps`, pinned version, pinned platform tags so every machine picks the same
# file whatever its own Python), its sha256 is checked against the pin below, and only the model
# files are extracted, under stable names:
#   model.safetensors   <- wordllama/weights/l2_supercat_256.safetensors  (tensor "embedding.weight")
#   tokenizer.json      <- wordllama/tokenizers/l2_supercat_tokenizer_config.json (a complete
#                          Hugging Face tokenizer.json; loads with tokenizers' from_file as is)
#   LICENSE, README.md  <- the package's MIT licence, and a note of origin and version
# The extracted files are pinned by sha256 too: when DIR already holds them, nothing is fetched
# (idempotent, and offline once done). /models is in .gitignore; the files are never committed.
# Needs python3 with pip (nothing is installed into any environment) and sha256sum.
# Only the model directory's absolute path goes to stdout; progress goes to stderr.
set -euo pipefail
exec 3>&1 1>&2

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

VERSION=0.4.0.post1
WHEEL=wordllama-0.4.0.post1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
WHEEL_SHA256=42c2c88907ace0b0681ac6f9092d6a300a6409a5d2d61071a3fb5e7159370c97
MODEL_MEMBER=wordllama/weights/l2_supercat_256.safetensors
MODEL_SHA256=64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5
TOKENIZER_MEMBER=wordllama/tokenizers/l2_supercat_tokenizer_config.json
TOKENIZER_SHA256=93248f2a9ec36c7b35f700a033d5f36228aae48db61aee31007fa49062cdeb68
LICENSE_MEMBER=wordllama-$VERSION.dist-info/licenses/LICENSE

DIR="${1:-$ROOT/models/wordllama-l2-256}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"

log() { echo "fetch-model: $*" >&2; }

sha_ok() { # FILE SHA256
    [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

if sha_ok "$DIR/model.safetensors" "$MODEL_SHA256" \
    && sha_ok "$DIR/tokenizer.json" "$TOKENIZER_SHA256" \
    && [ -f "$DIR/LICENSE" ] && [ -f "$DIR/README.md" ]; then
    log "up to date: $DIR"
    echo "$DIR" >&3
    exit 0
fi

TMP="$(mktemp -d "$DIR/.fetch.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

log "downloading wordllama==$VERSION"
# --platform/--python-version/--implementation/--abi pin the one wheel whose hash is pinned;
# only the data files inside it are used, so its native extensions' platform does not matter.
python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp --abi cp311 \
    --dest "$TMP" "wordllama==$VERSION"

if ! sha_ok "$TMP/$WHEEL" "$WHEEL_SHA256"; then
    log "sha256 mismatch or missing wheel $WHEEL; got:"
    (cd "$TMP" && sha256sum ./*.whl) >&2 || true
    exit 1
fi

log "extracting model files"
python3 - "$TMP/$WHEEL" "$TMP/out" "$MODEL_MEMBER" "$TOKENIZER_MEMBER" "$LICENSE_MEMBER" <<'EOF'
import os, shutil, sys, zipfile

wheel, out, model, tokenizer, licence = sys.argv[1:]
os.makedirs(out)
with zipfile.ZipFile(wheel) as z:
    for member, name in ((model, "model.safetensors"), (tokenizer, "tokenizer.json"),
                         (licence, "LICENSE")):
        with z.open(member) as src, open(os.path.join(out, name), "wb") as dst:
            shutil.copyfileobj(src, dst)
EOF

sha_ok "$TMP/out/model.safetensors" "$MODEL_SHA256" || { log "model.safetensors: sha256 mismatch"; exit 1; }
sha_ok "$TMP/out/tokenizer.json" "$TOKENIZER_SHA256" || { log "tokenizer.json: sha256 mismatch"; exit 1; }

cat >"$TMP/out/README.md" <<EOF
# wordllama-l2-256

Static token-embedding model for the vector service, extracted by scripts/fetch-model.sh from
the PyPI package \`wordllama==$VERSION\` (wheel $WHEEL,
sha256 $WHEEL_SHA256), by Lee Miller, upstream project dleemiller/WordLlama.
The package is released under the MIT licence (copy in LICENSE). The model ("l2_supercat") was
trained from token-embedding codebooks of LLaMA 2 family models and uses the LLaMA 2 vocabulary.

| file | from the wheel | sha256 |
| --- | --- | --- |
| model.safetensors | $MODEL_MEMBER | $MODEL_SHA256 |
| tokenizer.json | $TOKENIZER_MEMBER | $TOKENIZER_SHA256 |
| LICENSE | $LICENSE_MEMBER | |

model.safetensors holds one tensor, \`embedding.weight\`: float16, shape [32000, 256], one row per
token id. tokenizer.json is a Hugging Face tokenizer (BPE with byte fallback, no lowercasing).
WordLlama embeds a text as: encode without special tokens, look up the rows, average them, and
L2-normalise (cosine similarity).
EOF

for f in model.safetensors tokenizer.json LICENSE README.md; do
    mv -f "$TMP/out/$f" "$DIR/$f"
done
log "done: $DIR"
echo "$DIR" >&3
