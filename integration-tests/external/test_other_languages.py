"""Code generation for other languages from proto/ as published: no flags beyond the outputs.

The contracts carry each language's package option (go_package, java_package with
java_multiple_files, csharp_namespace, php_namespace, ruby_package), so a Go, Java, C#, PHP or
Ruby user runs protoc with nothing but an output directory, and the code lands in the declared
package. protoc-gen-go (APIv2) refuses a file without go_package, so the Go case is the one
that failed before the options were there. The generated code is not compiled here (no Go,
JDK, .NET, PHP or Ruby toolchain on the CI machine); its package lines and cross-file imports
are checked instead. protoc and the Go plugins are Debian's (protobuf-compiler, protoc-gen-go,
protoc-gen-go-grpc; scripts/install-tools.sh installs them): grpc_tools' protoc has only the
Python generators.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from chatmesh_external import proto_root

SERVICES = ["chat", "router", "graph", "vector", "relational"]
GO_MODULE = "github.com/chatmesh/chatmesh/gen/go/chatmesh"


def protoc(out: Path, *flags: str) -> None:
    """Debian's protoc over every contract with `flags` (and nothing else), which must succeed."""
    root = proto_root()
    files = sorted(p.relative_to(root).as_posix() for p in (root / "chatmesh").rglob("*.proto"))
    assert len(files) == len(SERVICES), files
    cmd = [installed("protoc"), f"-I{root}", *flags, *files]
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(cmd, cwd=out, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"protoc {' '.join(flags)} failed:\n{proc.stderr}{proc.stdout}"


def installed(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is not installed; run scripts/install-tools.sh"
    return path


def test_go_messages_and_grpc_stubs_need_no_m_flags(tmp_path: Path) -> None:
    protoc(
        tmp_path,
        f"--plugin=protoc-gen-go={installed('protoc-gen-go')}",
        f"--plugin=protoc-gen-go-grpc={installed('protoc-gen-go-grpc')}",
        f"--go_out={tmp_path}",
        f"--go-grpc_out={tmp_path}",
    )
    for svc in SERVICES:
        folder = tmp_path / GO_MODULE / svc / "v1"
        for suffix in (".pb.go", "_grpc.pb.go"):
            source = (folder / f"{svc}{suffix}").read_text()
            assert f"\npackage {svc}v1\n" in source, f"{svc}{suffix}: no 'package {svc}v1'"
    # Cross-file references resolve to the declared import paths, not to guesses.
    router = (tmp_path / GO_MODULE / "router/v1/router.pb.go").read_text()
    for dependency in ("graph", "vector", "relational"):
        assert f' "{GO_MODULE}/{dependency}/v1"\n' in router, dependency
    chat = (tmp_path / GO_MODULE / "chat/v1/chat.pb.go").read_text()
    assert f' "{GO_MODULE}/router/v1"\n' in chat


@pytest.mark.parametrize(
    ("flag", "path", "declaration"),
    [
        ("--java_out", "com/github/chatmesh/{svc}/v1/{Svc}Proto.java", "package com.github.chatmesh.{svc}.v1;"),
        ("--csharp_out", "{Svc}.cs", "namespace Chatmesh.{Svc}.V1 {{"),
        ("--php_out", "Chatmesh/{Svc}/V1/*Request.php", "namespace Chatmesh\\{Svc}\\V1;"),
        ("--ruby_out", "chatmesh/{svc}/v1/{svc}_pb.rb", "module Chatmesh\n  module {Svc}\n    module V1"),
    ],
    ids=["java", "csharp", "php", "ruby"],
)
def test_each_language_lands_in_its_declared_package(
    tmp_path: Path, flag: str, path: str, declaration: str
) -> None:
    protoc(tmp_path, f"{flag}={tmp_path}")
    for svc in SERVICES:
        names = {"svc": svc, "Svc": svc.capitalize()}
        matches = sorted(tmp_path.glob(path.format(**names)))
        if not matches:
            found = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))[:40]
            pytest.fail(f"{flag}: nothing at {path.format(**names)}; generated: {found}")
        for generated in matches:
            text = generated.read_text()
            assert declaration.format(**names) in text, f"{generated}: {declaration}"
