"""Measures one large artifact through Larder's artifact proxy with MLflow's own client: the
upload (one streamed PUT, and the proxied multipart upload), then the download. Not a test:
run it by hand against a server (see docs/mlflow.md, "Artifacts").

Usage: python artifacts_throughput.py <file>  (MLFLOW_TRACKING_URI / _TOKEN in the environment)
"""
import json
import os
import sys
import tempfile
import time

import mlflow
from mlflow import MlflowClient

path = sys.argv[1]
size = os.path.getsize(path)
client = MlflowClient()
mlflow.set_experiment("artifact-throughput")
result = {"bytes": size}
with mlflow.start_run() as run:
    started = time.perf_counter()
    mlflow.log_artifact(path, artifact_path="put")
    result["put_mb_s"] = round(size / (time.perf_counter() - started) / 1e6, 1)
    os.environ["MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"] = "true"
    started = time.perf_counter()
    mlflow.log_artifact(path, artifact_path="multipart")
    result["multipart_mb_s"] = round(size / (time.perf_counter() - started) / 1e6, 1)
with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(path))) as target:
    started = time.perf_counter()
    mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="put", dst_path=target)
    result["get_mb_s"] = round(size / (time.perf_counter() - started) / 1e6, 1)
print(json.dumps(result))
