#!/usr/bin/env bash
# Checks the chatmesh protobuf contracts in proto/:
#   1. buf lint (STANDARD + COMMENTS, see buf.yaml);
#   2. buf breaking (FILE rules) against the committed baseline image
#      proto/baseline/v1.binpb and, when HEAD has a parent commit that holds
#      .proto files, against that parent, so a wire-breaking change to a v1
#      package fails CI (a commit that moves the baseline is held to the wire
#      and JSON rules against its parent: it accepts a source-level change);
#   3. a self-test proving step 2 can fail: a copy of proto/ with one field
#      deleted from GetNodeRequest must be reported as breaking.
# Runnable from any directory. The buf binary is $BUF, else
# .tools/buf/node_modules/.bin/buf (install: mkdir -p .tools/buf &&
# cd .tools/buf && npm install @bufbuild/buf).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUF="${BUF:-$ROOT/.tools/buf/node_modules/.bin/buf}"
# A relative $BUF path is taken relative to the caller's directory.
if [[ "$BUF" == */* && "$BUF" != /* ]]; then BUF="$PWD/$BUF"; fi
BASELINE="proto/baseline/v1.binpb"

if [[ ! -x "$BUF" ]] && ! command -v "$BUF" >/dev/null 2>&1; then
  echo "buf-check: buf not found at '$BUF' (set BUF, or run: mkdir -p .tools/buf && cd .tools/buf && npm install @bufbuild/buf)" >&2
  exit 1
fi
cd "$ROOT"
if [[ ! -f "$BASELINE" ]]; then
  echo "buf-check: missing baseline image $BASELINE (create it with scripts/buf-baseline.sh)" >&2
  exit 1
fi

# Step 1: lint.
"$BUF" lint
echo "buf-check: [1/3] lint: ok"

# Step 2: wire compatibility with the baseline image and the parent commit.
"$BUF" breaking --against "$BASELINE"
echo "buf-check: [2/3] breaking vs $BASELINE: ok"
if git -C "$ROOT" rev-parse -q --verify 'HEAD~1^{commit}' >/dev/null 2>&1; then
  if git -C "$ROOT" ls-tree -r --name-only 'HEAD~1' -- proto | grep -q '\.proto$'; then
    if git -C "$ROOT" diff --quiet 'HEAD~1' HEAD -- "$BASELINE"; then
      "$BUF" breaking --against '.git#ref=HEAD~1,subdir=proto'
      echo "buf-check: [2/3] breaking vs HEAD~1: ok"
    else
      # HEAD moves the baseline: it deliberately accepts a source-level change (a file option
      # such as go_package, which the FILE rules count as breaking). The wire must still hold.
      "$BUF" breaking --against '.git#ref=HEAD~1,subdir=proto' \
        --config '{"version":"v2","modules":[{"path":"proto"}],"breaking":{"use":["WIRE_JSON"]}}'
      echo "buf-check: [2/3] breaking vs HEAD~1: ok (wire and JSON; HEAD moves the baseline)"
    fi
  else
    echo "buf-check: [2/3] breaking vs HEAD~1: skipped (HEAD~1 has no .proto files)"
  fi
else
  echo "buf-check: [2/3] breaking vs HEAD~1: skipped (no parent commit)"
fi

# Step 3: self-test. Delete field 1 of GetNodeRequest in a copy and require
# buf breaking to fail on it.
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cp -R proto "$TMP/proto"
cp buf.yaml "$TMP/buf.yaml"
TARGET="$TMP/proto/chatmesh/graph/v1/graph.proto"
sed '/^message GetNodeRequest {/,/^}/{/^[[:space:]]*uint64 id = 1;/d;}' \
  proto/chatmesh/graph/v1/graph.proto >"$TARGET"
if cmp -s proto/chatmesh/graph/v1/graph.proto "$TARGET"; then
  echo "buf-check: SELF-TEST BROKEN: sed did not delete GetNodeRequest.id; update the self-test in scripts/buf-check.sh" >&2
  exit 1
fi
if ! (cd "$TMP" && "$BUF" build >/dev/null); then
  echo "buf-check: SELF-TEST BROKEN: the mutated copy does not compile, so it proves nothing" >&2
  exit 1
fi
set +e
OUT="$(cd "$TMP" && "$BUF" breaking --against "$ROOT/$BASELINE" 2>&1)"
RC=$?
set -e
if [[ $RC -eq 0 ]]; then
  echo "buf-check: !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  echo "buf-check: SELF-TEST FAILED: deleting GetNodeRequest.id was NOT reported as" >&2
  echo "buf-check: breaking; the breaking check cannot catch wire-breaking changes." >&2
  echo "buf-check: !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  exit 1
fi
if ! grep -q 'GetNodeRequest' <<<"$OUT"; then
  echo "buf-check: SELF-TEST FAILED: buf breaking failed (exit $RC) but not because of GetNodeRequest:" >&2
  echo "$OUT" >&2
  exit 1
fi
echo "buf-check: [3/3] self-test (deleted GetNodeRequest.id is reported as breaking): ok"
