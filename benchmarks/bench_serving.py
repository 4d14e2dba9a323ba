"""The registered model through MLflow's stock scoring server vs the same pyfunc model
in-process, on the same base64 PNG batches (1 and 64 images per request), CPU.

    .venv/bin/python benchmarks/bench_serving.py [REQUESTS]

A tiny model is trained once (one epoch) and registered as ``models:/shapes_model/1``;
``mlflow models serve --env-manager local`` serves it on 127.0.0.1 (loopback only, a
bounded number of sequential requests). In-process: ``mlflow.pyfunc.load_model(...)
.predict(DataFrame)`` on the very DataFrame a request carries. Each is warmed up once; the
rate is requests (or predict calls) per second over REQUESTS timed calls; the answers of
both paths must agree.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from bench_predict import machine_busy_seconds, train_demo_model  # noqa: E402
from PIL import Image  # noqa: E402

from core.demo import write_demo_images  # noqa: E402

THEME = "shapes"
SOURCE_SIZE = 48
BATCHES = (1, 64)


def encoded(paths: list[Path]) -> list[str]:
    texts = []
    for path in paths:
        with Image.open(path) as image:
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="PNG")
        texts.append(base64.b64encode(buffer.getvalue()).decode())
    return texts


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(tracking_uri: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "models",
            "serve",
            "--env-manager",
            "local",
            "-m",
            f"models:/{THEME}_model/1",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit("mlflow models serve exited") from None
            time.sleep(0.5)
    server.kill()
    raise SystemExit("mlflow models serve did not answer within 180 s")


def post(port: int, images: list[str]) -> dict:
    body = json.dumps({"dataframe_split": {"columns": ["image"], "data": [[i] for i in images]}})
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations", body.encode(), {"Content-Type": "application/json"}
    )
    return json.loads(urllib.request.urlopen(request, timeout=120).read())


def rate(call, repeats: int) -> float:
    call()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    return repeats / (time.perf_counter() - start)


def main(repeats: int) -> None:
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        workspace = train_demo_model(tmp_path)
        paths = write_demo_images(tmp_path / "batch", per_class=22, size=SOURCE_SIZE, seed=7)
        images = encoded(paths[: max(BATCHES)])
        mlflow.set_tracking_uri(workspace.mlflow_tracking_uri)
        model = mlflow.pyfunc.load_model(f"models:/{THEME}_model/1")
        port = free_port()
        server = serve(workspace.mlflow_tracking_uri, port)
        rows = []
        try:
            busy, own = machine_busy_seconds(), time.process_time()
            for size in BATCHES:
                batch = images[:size]
                frame = pd.DataFrame({"image": batch})
                served = post(port, batch)["predictions"]
                local = model.predict(frame)
                agree = np.allclose(
                    [p["probability"] for p in served], local["probability"], atol=1e-6
                )
                http = rate(lambda b=batch: post(port, b), repeats)
                in_process = rate(lambda f=frame: model.predict(f), repeats)
                rows.append((size, http, in_process, agree))
            busy, own = machine_busy_seconds() - busy, time.process_time() - own
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"model: simple_cnn 32x32 from {SOURCE_SIZE}x{SOURCE_SIZE} base64 PNGs, CPU, "
        f"mlflow {mlflow.__version__}, {repeats} timed calls each"
    )
    print(
        f"{'images/request':>14} {'served req/s':>13} {'in-process/s':>13} "
        f"{'served img/s':>13} {'ratio':>6}  agree"
    )
    for size, http, in_process, agree in rows:
        print(
            f"{size:>14} {http:13.1f} {in_process:13.1f} {http * size:13.1f} "
            f"{http / in_process:6.2f}  {agree}"
        )
    print(
        f"CPU check (timed part, server included in the machine's): machine busy {busy:.1f} "
        f"CPU-s, this process {own:.1f} CPU-s"
    )
    if not all(row[3] for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
