#!/usr/bin/env python3
"""Start-up figures for each chatmesh service binary: time from exec to SERVING (gRPC health),
idle resident memory, and time from SIGTERM to exit.

Usage (from the repository root, after `cargo build --release --bins` and
`scripts/install-tools.sh`):

    .tools/venv/bin/python scripts/bench-startup.py [--runs 21] [--bin-dir target/release]

Each run starts the binary on a fresh loopback port and data directory, polls a TCP connect
every 0.5 ms until the port accepts, then polls
grpc.health.v1.Health/Check for the service's name every 1 ms (reconnect backoff 1-5 ms)
until SERVING, waits 1 s idle,
reads VmRSS from /proc, then sends SIGTERM and times the exit. Prints medians and p90s as a
Markdown table.
"""

import argparse
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

SERVICES = [
    ("chatbot", "chatmesh.chat.v1.ChatService", []),
    ("router", "chatmesh.router.v1.RouterService", []),
    ("graph", "chatmesh.graph.v1.GraphService", ["--data-dir", "{data}"]),
    ("vector", "chatmesh.vector.v1.VectorService", ["--data-dir", "{data}"]),
    ("relational", "chatmesh.relational.v1.RelationalService",
     ["--database-url", "sqlite://{data}/chatmesh.db"]),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def one_run(binary, fqn, extra):
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        args = [binary, "--listen", f"127.0.0.1:{port}", "--log", "warn"]
        args += [a.format(data=data) for a in extra]
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{binary} exited: {proc.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.0005)
        to_listen = time.perf_counter() - started
        # Short reconnect backoff: grpc's default (1 s) would dominate the measurement.
        channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[
            ("grpc.initial_reconnect_backoff_ms", 1),
            ("grpc.min_reconnect_backoff_ms", 1),
            ("grpc.max_reconnect_backoff_ms", 5),
        ])
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{binary} exited: {proc.stderr.read().decode()}")
                try:
                    reply = stub.Check(health_pb2.HealthCheckRequest(service=fqn), timeout=0.2)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        break
                except grpc.RpcError:
                    pass
                time.sleep(0.001)
            to_serving = time.perf_counter() - started
            channel.close()
            time.sleep(1.0)
            rss = rss_kib(proc.pid)
            stop_started = time.perf_counter()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=15)
            to_exit = time.perf_counter() - stop_started
            if code != 0:
                raise RuntimeError(f"{binary} exited {code} after SIGTERM")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return to_listen, to_serving, rss, to_exit


def p90(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--bin-dir", default="target/release")
    opts = parser.parse_args()

    print(f"machine: {platform.platform()}, {os.cpu_count()} cores; runs per service: {opts.runs}")
    print()
    print("| service | start → accepting p50 | start → SERVING p50 | p90 "
          "| idle RSS p50 | SIGTERM → exit p50 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, fqn, extra in SERVICES:
        binary = os.path.join(opts.bin_dir, f"chatmesh-{name}")
        if not os.access(binary, os.X_OK):
            sys.exit(f"missing {binary}: run cargo build --release --bins")
        runs = [one_run(binary, fqn, extra) for _ in range(opts.runs)]
        listening = [r[0] * 1000 for r in runs]
        serving = [r[1] * 1000 for r in runs]
        rss = [r[2] / 1024 for r in runs]
        stop = [r[3] * 1000 for r in runs]
        print(f"| {name} | {statistics.median(listening):.1f} ms "
              f"| {statistics.median(serving):.1f} ms | {p90(serving):.1f} ms "
              f"| {statistics.median(rss):.1f} MiB | {statistics.median(stop):.1f} ms |")


if __name__ == "__main__":
    main()
