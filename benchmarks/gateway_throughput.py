"""Gateway benchmark: the Python gateway against nginx doing the same routing, one run, ratios.

    .venv/bin/python benchmarks/gateway_throughput.py [--seconds 5] [--rounds 3]

Everything runs on loopback: one nginx worker as the upstream (the same for all), the Python
gateway (one process, uvloop), and nginx on `homeport gateway render nginx` output with one
worker. wrk drives each at 16 and 64 connections with `x-mode: microservices` on /api/jobs.
Then: p99 latency the gateway adds over calling the upstream directly; geo lookups per second in
process and through /api/public/geo; peak RSS of the gateway over 10,000 requests that include
100 MB bodies.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gateway_geo  # benchmarks/gateway_geo.py, beside this script
from tests.support.gateway import (
    Upstreams,
    child_pids,
    peak_rss_mb,
    start_nginx,
    start_python_gateway,
    start_upstreams,
    stop_process,
)
from tests.support.servers import free_port, wait_for_port

STATIC_UPSTREAM = """\
worker_processes 1;
error_log error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path cbt; proxy_temp_path pt; fastcgi_temp_path ft;
    uwsgi_temp_path ut; scgi_temp_path st;
    client_max_body_size 0;
    server {{
        listen 127.0.0.1:{port};
        location / {{ add_header x-served-by jobs; return 200 '{{"jobs":[1,2,3]}}'; }}
        location ~ ^/api/(upload|download) {{
            proxy_pass http://127.0.0.1:{sink};
            proxy_http_version 1.1;
            proxy_request_buffering off;
            proxy_buffering off;
        }}
    }}
}}
"""
PLATFORM = """\
name: bench
services:
  jobs: {run: x}
  monolith: {run: x}
  landing: {run: x}
gateway:
  routes:
    - {when: {header: x-mode, equals: microservices}, path: /api/jobs, to: jobs}
    - {when: {header: x-mode, equals: microservices}, path: /api/companies, to: jobs}
    - {path: /api, to: monolith}
    - {to: landing}
  cors: [https://jobs.elkhair.tech, "https://*.eelkhair.net"]
  trusted_proxies: [127.0.0.1/32]
  limits: {max_body: 200MB}
"""


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time consumed so far by ``pids``."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def wrk(url: str, connections: int, seconds: int, path: str = "/api/jobs") -> tuple[float, float]:
    """(requests per second, p99 latency in ms); the request count goes to ``LAST``."""
    done = subprocess.run(
        [
            "wrk",
            "--latency",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "-H",
            "x-mode: microservices",
            url + path,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    LAST["requests"] = int(re.search(r"(\d+) requests in", done.stdout).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", done.stdout)
    assert p99 is not None, done.stdout
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return rps, float(p99.group(1)) * scale


LAST: dict[str, int] = {}


def cpu_per_request(url: str, pids: list[int], seconds: int) -> float:
    """Microseconds of the proxy's CPU per request at 16 connections: independent of how
    loaded the shared machine is, since only the proxy's own CPU time is counted."""
    before = cpu_seconds(pids)
    wrk(url, 16, seconds)
    return (cpu_seconds(pids) - before) / LAST["requests"] * 1e6


def start_static_upstream(workdir: Path, sink: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "nginx.conf"
    conf.write_text(STATIC_UPSTREAM.format(port=port, sink=sink))
    process = subprocess.Popen(
        ["nginx", "-p", str(workdir), "-c", str(conf), "-g", f"daemon off; pid {workdir}/pid;"],
        start_new_session=True,
    )
    wait_for_port(port, 10, process)
    return process, port


def memory_run(url: str, pid: int, small: int, big: int) -> float:
    """Proxy ``small`` small requests and ``big`` 100 MB bodies (half up, half down); peak RSS."""
    block = b"b" * (1024 * 1024)

    def body() -> Iterator[bytes]:
        for _ in range(100):
            yield block

    def transfer(index: int) -> None:
        with httpx.Client(timeout=120) as client:
            if index % 2:
                client.post(url + "/api/upload", content=body()).raise_for_status()
                return
            with client.stream("GET", url + "/api/download?bytes=100000000") as download:
                download.raise_for_status()
                for _ in download.iter_raw():
                    pass

    def get(client: httpx.Client) -> None:
        client.get(url + "/api/jobs", headers={"x-mode": "microservices"}).raise_for_status()

    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: get(client), range(small)))
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(transfer, range(big)))
    return peak_rss_mb(pid)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--big-bodies", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="homeport-gw-bench-"))
    sink_upstreams = None
    processes: list[subprocess.Popen[bytes]] = []
    try:
        sink_upstreams = start_upstreams(("sink",))
        upstream, port = start_static_upstream(work / "upstream", sink_upstreams.ports["sink"])
        processes.append(upstream)
        direct = f"http://127.0.0.1:{port}"
        platform = work / "homeport.yaml"
        platform.write_text(PLATFORM)
        same = Upstreams(sink_upstreams.process, {n: port for n in ("jobs", "monolith", "landing")})
        python = start_python_gateway(platform, same)
        processes.append(python.process)
        nginx = start_nginx(platform, same, python.url, work / "nginx")
        processes.append(nginx.process)
        wrk(python.url, 16, 2)
        wrk(nginx.url, 16, 2)  # warm both

        results: dict[tuple[str, int], tuple[float, float]] = {}
        ratios: dict[int, list[float]] = {16: [], 64: []}
        for connections in (16, 64):
            runs: dict[str, list[tuple[float, float]]] = {"direct": [], "python": [], "nginx": []}
            for _ in range(args.rounds):  # interleaved, so a busy minute hits all three alike
                for name, url in (("direct", direct), ("python", python.url), ("nginx", nginx.url)):
                    runs[name].append(wrk(url, connections, args.seconds))
                ratios[connections].append(runs["python"][-1][0] / runs["nginx"][-1][0])
            for name, measured in runs.items():
                results[(name, connections)] = (
                    statistics.median(r for r, _ in measured),
                    statistics.median(p for _, p in measured),
                )
        print(f"medians of {args.rounds} interleaved rounds of {args.seconds} s")
        print(f"{'':22}{'req/s':>10}{'p99 ms':>10}")
        for (name, connections), (rps, p99) in results.items():
            print(f"{name + ' @' + str(connections):22}{rps:10.0f}{p99:10.2f}")
        for connections in (16, 64):
            each = ", ".join(f"{r:.2f}" for r in ratios[connections])
            print(
                f"python/nginx req/s @{connections}: {statistics.median(ratios[connections]):.2f}x"
                f" median (rounds: {each}; target >= 0.35x)"
            )
        added = results[("python", 16)][1] - results[("direct", 16)][1]
        added_nginx = results[("nginx", 16)][1] - results[("direct", 16)][1]
        print(
            f"p99 added over direct @16: python {added:.2f} ms (target <= 2 ms), "
            f"nginx {added_nginx:.2f} ms"
        )

        python_cpu = cpu_per_request(python.url, [python.pid], args.seconds)
        nginx_cpu = cpu_per_request(nginx.url, child_pids(nginx.pid), args.seconds)
        print(
            f"CPU per proxied request @16: python {python_cpu:.0f} us, nginx {nginx_cpu:.0f} us; "
            f"req/s one core each could reach: python/nginx = {nginx_cpu / python_cpu:.2f}x"
        )

        for line in gateway_geo.report(gateway_geo.measure()):  # in process, with its peer
            print(line)
        geo_rps, geo_p99 = wrk(python.url, 16, args.seconds, "/api/public/geo?ip=81.2.69.160")
        print(f"geo through /api/public/geo @16: {geo_rps:,.0f} req/s, p99 {geo_p99:.2f} ms")

        small = 10_000 - args.big_bodies
        rss = memory_run(python.url, python.pid, small, args.big_bodies)
        print(
            f"gateway peak RSS over {small} small requests + {args.big_bodies} x 100 MB bodies "
            f"(half up, half down): {rss:.0f} MB (target < 150 MB)"
        )
    finally:
        for process in reversed(processes):
            stop_process(process)
        if sink_upstreams is not None:
            sink_upstreams.stop()


if __name__ == "__main__":
    main()
