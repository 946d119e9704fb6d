"""The MLflow client workload of the bench, run the same way against Larder and `mlflow server`.

Usage: python mlflow_client_workload.py <tracking uri> <settings json>
Settings: points (log_batch ingest into one series, 1000 per call), runs (for search_runs),
searches, history_reads, artifact_mib, artifact_dir (where the artifact file is made),
ingest_only (the ingest alone, nothing read back: for a server that stores nothing).
Prints one JSON object on its last line of stdout. Every answer is checked (the series read
back has every point, the search answers the runs the filter selects, in the order asked).
"""

import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

OPTIMIZERS = ["adam", "sgd", "rmsprop", "adagrad"]
BATCH = 1000  # MLflow's limit of metrics per log_batch


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def latency_summary(seconds):
    ms = [s * 1000 for s in seconds]
    return {
        "count": len(ms),
        "p50Ms": round(percentile(ms, 0.5), 2),
        "p95Ms": round(percentile(ms, 0.95), 2),
        "meanMs": round(statistics.fmean(ms), 2),
    }


def ingest(client, experiment_id, points):
    """`points` points of one series through log_batch, 1000 per call, as a training loop sends them."""
    run = client.create_run(experiment_id, run_name="ingest")
    run_id = run.info.run_id
    now = int(time.time() * 1000)
    started = time.perf_counter()
    for start in range(0, points, BATCH):
        batch = [Metric("loss", 1.0 / (step + 1), now + step, step) for step in range(start, min(points, start + BATCH))]
        client.log_batch(run_id, metrics=batch, synchronous=True)
    seconds = time.perf_counter() - started
    return run_id, {"points": points, "seconds": round(seconds, 3), "pointsPerSecond": round(points / seconds)}


def history(client, tracking_uri, run_id, points, reads):
    """The whole series back: the wire answer alone (HTTP body read), and through the client's get_metric_history."""
    url = f"{tracking_uri}/api/2.0/mlflow/metrics/get-history"
    wire = []
    body_bytes = 0
    for _ in range(reads):
        started = time.perf_counter()
        answer = requests.get(url, params={"run_id": run_id, "metric_key": "loss"}, timeout=600)
        body = answer.content
        wire.append(time.perf_counter() - started)
        answer.raise_for_status()
        body_bytes = len(body)
    parsed = json.loads(body)
    if len(parsed.get("metrics", [])) != points:
        raise SystemExit(f"get-history answered {len(parsed.get('metrics', []))} points, not {points}")
    started = time.perf_counter()
    series = client.get_metric_history(run_id, "loss")
    client_seconds = time.perf_counter() - started
    if len(series) != points or series[-1].step != points - 1:
        raise SystemExit(f"get_metric_history gave {len(series)} points, not {points}")
    return {
        "points": points,
        "bodyMiB": round(body_bytes / 2**20, 1),
        "wire": latency_summary(wire),
        "clientSeconds": round(client_seconds, 3),
    }


def fill_runs(client, experiment_id, runs):
    """`runs` runs, each with an optimizer and learning rate param and an accuracy metric, 8 in flight."""
    now = int(time.time() * 1000)

    def one(index):
        run = client.create_run(experiment_id, run_name=f"r{index}")
        client.log_batch(
            run.info.run_id,
            params=[Param("optimizer", OPTIMIZERS[index % 4]), Param("lr", str(10 ** -(1 + index % 5)))],
            metrics=[Metric("accuracy", (index * 7919 % runs) / runs, now, 0)],
            synchronous=True,
        )

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(runs)))
    seconds = time.perf_counter() - started
    return {"runs": runs, "seconds": round(seconds, 1), "runsPerSecond": round(runs / seconds, 1)}


def search(client, experiment_id, runs, searches):
    """search_runs with a params filter and a metric order, first page of 100, checked against the fill."""
    expected = sorted(
        (index for index in range(runs) if index % 4 == 0), key=lambda index: -((index * 7919 % runs) / runs)
    )[:100]
    times = []
    for _ in range(searches):
        started = time.perf_counter()
        page = client.search_runs(
            [experiment_id],
            filter_string="params.optimizer = 'adam'",
            order_by=["metrics.accuracy DESC"],
            max_results=100,
        )
        times.append(time.perf_counter() - started)
    names = [run.info.run_name for run in page]
    want = [f"r{index}" for index in expected]
    got_values = [run.data.metrics["accuracy"] for run in page]
    want_values = [(index * 7919 % runs) / runs for index in expected]
    if got_values != want_values or any(run.data.params["optimizer"] != "adam" for run in page):
        raise SystemExit(f"search_runs answered {names[:5]}…, expected {want[:5]}…")
    return latency_summary(times)


def artifact(client, run_id, mib, directory):
    """One file of `mib` MiB through log_artifact (the server's artifact proxy), then read back."""
    path = os.path.join(directory, "weights.bin")
    block = os.urandom(2**20)
    with open(path, "wb") as file:
        for _ in range(mib):
            file.write(block)
        # On disk before the clock starts, as a checkpoint written earlier in training is: its
        # write-back would otherwise share the disk with the upload, and count against the
        # server that syncs what it receives (Larder) and not against one that does not.
        file.flush()
        os.fsync(file.fileno())
    started = time.perf_counter()
    client.log_artifact(run_id, path)
    up = time.perf_counter() - started
    os.remove(path)
    started = time.perf_counter()
    local = client.download_artifacts(run_id, "weights.bin", directory)
    down = time.perf_counter() - started
    size = os.path.getsize(local)
    os.remove(local)
    if size != mib * 2**20:
        raise SystemExit(f"the artifact came back with {size} bytes, not {mib * 2**20}")
    return {
        "mib": mib,
        "uploadMBps": round(mib * 2**20 / 1e6 / up, 1),
        "downloadMBps": round(mib * 2**20 / 1e6 / down, 1),
    }


def main():
    tracking_uri = sys.argv[1].rstrip("/")
    settings = json.loads(sys.argv[2])
    client = MlflowClient(tracking_uri)
    result = {"client": __import__("mlflow").__version__}
    experiment_id = client.create_experiment(f"bench-{int(time.time() * 1000)}")
    if settings.get("points"):
        run_id, result["ingest"] = ingest(client, experiment_id, settings["points"])
        if settings.get("ingest_only"):
            print(json.dumps(result))
            return
        result["history"] = history(client, tracking_uri, run_id, settings["points"], settings.get("history_reads", 3))
        client.set_terminated(run_id)
    if settings.get("runs"):
        search_experiment = client.create_experiment(f"search-{int(time.time() * 1000)}")
        result["fill"] = fill_runs(client, search_experiment, settings["runs"])
        result["search"] = search(client, search_experiment, settings["runs"], settings.get("searches", 50))
    if settings.get("artifact_mib"):
        run = client.create_run(experiment_id, run_name="artifact")
        result["artifact"] = artifact(client, run.info.run_id, settings["artifact_mib"], settings["artifact_dir"])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
