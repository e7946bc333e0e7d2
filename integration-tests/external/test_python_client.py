"""A Python client generated from proto/ with grpc_tools.protoc, against every service.

Proves that an outside client built from the published contracts (a) imports, (b) reaches
each server's health service, (c) matches the contract each server publishes by reflection
(v1 and v1alpha), and (d) can make a call through the generated stub.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from chatmesh_external import (
    CHANNEL_OPTIONS,
    HEALTH_FQN,
    INSTALL_HINT,
    SERVICE_IDS,
    SERVICES,
    Service,
    declared_service,
    proto_module_name,
    proto_root,
)

try:
    import grpc
    import grpc_tools
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2
except ImportError as exc:
    raise ImportError(f"{exc}; {INSTALL_HINT} and run the suite with .tools/venv/bin/pytest") from exc

SERVICE_PARAMS = pytest.mark.parametrize("svc", SERVICES, ids=SERVICE_IDS)

# v1 and v1alpha reflection are wire-identical (same messages, same field numbers), so the
# v1alpha message classes that grpcio-reflection ships serve for both method paths.
REFLECTION_METHODS = {
    "v1": "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "v1alpha": "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
}
REFLECTION_PARAMS = pytest.mark.parametrize("reflection", sorted(REFLECTION_METHODS))

ACCEPTABLE_CODES = {
    grpc.StatusCode.OK,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
}
# Name prefixes of RPCs that only read; one of them is called with an empty request.
READ_PREFIXES = (
    "Get", "List", "Describe", "Search", "Query", "Lookup", "Find", "Read", "Fetch",
    "Count", "Stats", "Stat", "Status", "Info", "Check", "Explain", "Neighbors", "Traverse",
)


# --------------------------------------------------------------------------------------------
# Stub generation


@dataclass
class Generated:
    out_dir: Path
    proto_files: list[str]
    modules: dict[str, ModuleType]  # module name -> module


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    root = proto_root()
    proto_files = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*.proto")
        # well-known types come from grpc_tools' bundled copy and the protobuf runtime
        if not p.relative_to(root).as_posix().startswith("google/protobuf/")
    )
    assert proto_files, f"no .proto files under {root}"
    out = tmp_path_factory.mktemp("pystubs")
    wkt_include = Path(grpc_tools.__file__).parent / "_proto"
    assert (wkt_include / "google/protobuf/struct.proto").is_file(), f"no well-known types in {wkt_include}"
    cmd = [
        sys.executable, "-m", "grpc_tools.protoc",
        f"--proto_path={root}", f"--proto_path={wkt_include}",
        f"--python_out={out}", f"--grpc_python_out={out}",
        *proto_files,
    ]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"protoc failed ({proc.returncode}):\n{proc.stderr}\n{proc.stdout}"

    sys.path.insert(0, str(out))
    importlib.invalidate_caches()
    names = sorted(
        p.relative_to(out).with_suffix("").as_posix().replace("/", ".")
        for p in out.rglob("*.py")
        if p.name.endswith(("_pb2.py", "_pb2_grpc.py"))
    )
    for f in proto_files:
        assert proto_module_name(f, "_pb2") in names, f"protoc produced no module for {f}"
    modules = {name: importlib.import_module(name) for name in names}
    return Generated(out, proto_files, modules)


def test_every_generated_module_imports(generated: Generated) -> None:
    for f in generated.proto_files:
        for suffix in ("_pb2", "_pb2_grpc"):
            name = proto_module_name(f, suffix)
            assert name in generated.modules, f"{name} (from {f}) was not generated/imported"
            assert generated.modules[name].__file__.startswith(str(generated.out_dir)), (
                f"{name} was imported from {generated.modules[name].__file__}, not the generated stubs"
            )
        pb2 = generated.modules[proto_module_name(f, "_pb2")]
        assert pb2.DESCRIPTOR.name == f


def service_modules(generated: Generated, svc: Service) -> tuple[ModuleType, ModuleType]:
    declared = declared_service(svc)
    pb2 = generated.modules[proto_module_name(declared.proto_file, "_pb2")]
    pb2_grpc = generated.modules[proto_module_name(declared.proto_file, "_pb2_grpc")]
    return pb2, pb2_grpc


@SERVICE_PARAMS
def test_generated_descriptor_matches_proto_source(generated: Generated, svc: Service) -> None:
    declared = declared_service(svc)
    pb2, pb2_grpc = service_modules(generated, svc)
    service_desc = pb2.DESCRIPTOR.services_by_name[svc.service_name]
    assert service_desc.full_name == svc.fqn
    assert [m.name for m in service_desc.methods] == list(declared.rpcs)
    assert hasattr(pb2_grpc, f"{svc.service_name}Stub")


# --------------------------------------------------------------------------------------------
# Health


@pytest.fixture(scope="session")
def channels(mesh: dict[str, str]):
    chans = {name: grpc.insecure_channel(addr, options=CHANNEL_OPTIONS) for name, addr in mesh.items()}
    yield chans
    for ch in chans.values():
        ch.close()


@SERVICE_PARAMS
@pytest.mark.parametrize("health_target", ["", "fqn"], ids=["overall", "by-name"])
def test_health_check_serving(channels, svc: Service, health_target: str) -> None:
    name = svc.fqn if health_target == "fqn" else ""
    stub = health_pb2_grpc.HealthStub(channels[svc.name])
    resp = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=10)
    assert resp.status == health_pb2.HealthCheckResponse.SERVING, (
        f"{svc.name}: Check({name!r}) = {health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)}"
    )


# --------------------------------------------------------------------------------------------
# Reflection


class ReflectionClient:
    def __init__(self, channel: grpc.Channel, version: str) -> None:
        self.version = version
        self._call = channel.stream_stream(
            REFLECTION_METHODS[version],
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )

    def ask(self, **kwargs) -> reflection_pb2.ServerReflectionResponse:
        responses = list(self._call(iter([reflection_pb2.ServerReflectionRequest(**kwargs)]), timeout=15))
        assert len(responses) == 1, f"reflection {self.version}: {len(responses)} responses to one request"
        resp = responses[0]
        assert not resp.HasField("error_response"), (
            f"reflection {self.version} {kwargs}: error {resp.error_response.error_code} "
            f"{resp.error_response.error_message}"
        )
        return resp

    def list_services(self) -> list[str]:
        resp = self.ask(list_services="")
        assert resp.HasField("list_services_response"), f"reflection {self.version}: {resp}"
        return [s.name for s in resp.list_services_response.service]

    def _files(self, resp) -> list[descriptor_pb2.FileDescriptorProto]:
        assert resp.HasField("file_descriptor_response"), f"reflection {self.version}: {resp}"
        return [descriptor_pb2.FileDescriptorProto.FromString(b) for b in resp.file_descriptor_response.file_descriptor_proto]

    def pool_for_symbol(self, symbol: str) -> descriptor_pool.DescriptorPool:
        """A fresh descriptor pool holding the file that defines `symbol` and, transitively, every
        file it imports, all fetched from the server (as grpcurl does)."""
        files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
        for fdp in self._files(self.ask(file_containing_symbol=symbol)):
            files.setdefault(fdp.name, fdp)
        wanted = [d for f in list(files.values()) for d in f.dependency]
        while wanted:
            dep = wanted.pop()
            if dep in files:
                continue
            for fdp in self._files(self.ask(file_by_filename=dep)):
                files.setdefault(fdp.name, fdp)
                wanted.extend(fdp.dependency)
            assert dep in files, f"reflection {self.version}: file_by_filename({dep!r}) did not return it"

        pool = descriptor_pool.DescriptorPool()
        added: set[str] = set()

        def add(name: str) -> None:
            if name in added:
                return
            added.add(name)
            for dep in files[name].dependency:
                add(dep)
            pool.AddSerializedFile(files[name].SerializeToString())

        for name in sorted(files):
            add(name)
        return pool


def _method_rows(service_desc) -> list[tuple]:
    sdp = descriptor_pb2.ServiceDescriptorProto()
    service_desc.CopyToProto(sdp)
    return [(m.name, m.input_type.lstrip("."), m.output_type.lstrip("."), m.client_streaming, m.server_streaming) for m in sdp.method]


def _message_shape(msg_desc) -> list[tuple]:
    """Field layout of a message and its nested messages: what decides wire compatibility."""
    dp = descriptor_pb2.DescriptorProto()
    msg_desc.CopyToProto(dp)

    def shape(d: descriptor_pb2.DescriptorProto, prefix: str) -> list[tuple]:
        rows = [
            (prefix, f.name, f.number, f.label, f.type, f.type_name.lstrip("."), f.oneof_index if f.HasField("oneof_index") else None, f.proto3_optional)
            for f in d.field
        ]
        for nested in d.nested_type:
            rows += shape(nested, f"{prefix}.{nested.name}")
        return sorted(rows)

    return shape(dp, msg_desc.full_name)


@SERVICE_PARAMS
@REFLECTION_PARAMS
def test_reflection_lists_service(channels, svc: Service, reflection: str) -> None:
    names = ReflectionClient(channels[svc.name], reflection).list_services()
    assert svc.fqn in names, f"{svc.name} reflection {reflection} lists {names}"
    assert HEALTH_FQN in names, f"{svc.name} reflection {reflection} lists {names}"


@SERVICE_PARAMS
@REFLECTION_PARAMS
def test_reflected_contract_matches_generated_client(generated: Generated, channels, svc: Service, reflection: str) -> None:
    pb2, _ = service_modules(generated, svc)
    local_service = pb2.DESCRIPTOR.services_by_name[svc.service_name]
    remote_pool = ReflectionClient(channels[svc.name], reflection).pool_for_symbol(svc.fqn)
    remote_service = remote_pool.FindServiceByName(svc.fqn)

    assert _method_rows(remote_service) == _method_rows(local_service), (
        f"{svc.fqn}: methods served by reflection {reflection} differ from the generated client"
    )
    local_pool = descriptor_pool.Default()
    for method in local_service.methods:
        for msg in (method.input_type, method.output_type):
            remote_msg = remote_pool.FindMessageTypeByName(msg.full_name)
            assert _message_shape(remote_msg) == _message_shape(local_pool.FindMessageTypeByName(msg.full_name)), (
                f"{svc.fqn}/{method.name}: message {msg.full_name} served by reflection differs from the generated one"
            )


# --------------------------------------------------------------------------------------------
# One call through each generated stub


def pick_read_rpc(service_desc):
    """The first read-only RPC, preferring unary ones, by name prefix in READ_PREFIXES order."""
    sdp = descriptor_pb2.ServiceDescriptorProto()
    service_desc.CopyToProto(sdp)
    streaming = {m.name: (m.client_streaming, m.server_streaming) for m in sdp.method}
    candidates = [m for m in service_desc.methods if not streaming[m.name][0]]
    for want_unary in (True, False):
        for prefix in READ_PREFIXES:
            for m in candidates:
                if m.name.startswith(prefix) and (not streaming[m.name][1]) == want_unary:
                    return m, streaming[m.name][1]
    pytest.fail(
        f"{service_desc.full_name} has no RPC whose name starts with one of {READ_PREFIXES}; "
        "update READ_PREFIXES in test_python_client.py"
    )


@SERVICE_PARAMS
def test_generated_stub_call_gets_grpc_status(generated: Generated, channels, svc: Service) -> None:
    pb2, pb2_grpc = service_modules(generated, svc)
    service_desc = pb2.DESCRIPTOR.services_by_name[svc.service_name]
    method, server_streaming = pick_read_rpc(service_desc)
    request = message_factory.GetMessageClass(method.input_type)()
    response_class = message_factory.GetMessageClass(method.output_type)
    stub = getattr(pb2_grpc, f"{svc.service_name}Stub")(channels[svc.name])
    call = getattr(stub, method.name)

    try:
        if server_streaming:
            responses = list(call(request, timeout=15))
        else:
            responses = [call(request, timeout=15)]
        code, detail = grpc.StatusCode.OK, ""
    except grpc.RpcError as err:
        responses = []
        code, detail = err.code(), err.details()

    assert code in ACCEPTABLE_CODES, (
        f"{svc.fqn}/{method.name} with an empty request: {code.name} {detail!r}; "
        f"expected one of {sorted(c.name for c in ACCEPTABLE_CODES)}"
    )
    for resp in responses:
        assert isinstance(resp, response_class), f"{svc.fqn}/{method.name} returned {type(resp)}"
