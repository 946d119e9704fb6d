"""Drives Marcelle's released Python client (marcelle 0.0.4 from PyPI) against a backend.

Usage: python marcelle_scenario.py <backend url> <work dir>   (or --probe: exit 0 when usable)
Prints one JSON object with what the client saw.

marcelle 0.0.4 imports TensorFlow, tensorflowjs and keras2onnx at import time, only to
convert Keras models; keras2onnx no longer imports under any TensorFlow that installs on
Python 3.11. The code exercised here (DataStore, Remote's REST calls, uploads, Uploader)
never uses them, so inert stand-ins are registered when the real modules are missing or
broken.
"""
import importlib
import json
import os
import sys
import types


def stand_in(name, **attributes):
    module = types.ModuleType(name)
    for key, value in attributes.items():
        setattr(module, key, value)
    sys.modules[name] = module
    return module


def ensure_importable(name, build):
    try:
        importlib.import_module(name)
    except Exception:  # missing, or broken by its own dependencies
        build()


def build_tensorflow():
    backend = stand_in("tensorflow.keras.backend", count_params=lambda p: 0)
    keras = stand_in("tensorflow.keras", backend=backend, models=None, callbacks=types.SimpleNamespace(Callback=object))
    stand_in("tensorflow", keras=keras, saved_model=None)


if os.environ.get("MARCELLE_REAL_TENSORFLOW") != "1":
    build_tensorflow()
    stand_in("tensorflowjs", converters=None)
    stand_in("keras2onnx")
else:
    ensure_importable("keras2onnx", lambda: stand_in("keras2onnx"))

from marcelle import DataStore, Remote, Uploader  # noqa: E402
from marcelle.utils import conform_dict  # noqa: E402

if sys.argv[1:] == ["--probe"]:
    # Usable: 0.0.4's conform_dict needs numpy < 2 (it reads np.float_).
    conform_dict({"x": 1.5})
    sys.exit(0)

backend, work = sys.argv[1], sys.argv[2]
out = {}

# DataStore: every method, Marcelle's query encodings, items() paging by 10.
things = DataStore(backend).service("things")
created = [things.create({"name": f"t{i}", "n": i, "tag": "even" if i % 2 == 0 else "odd"}) for i in range(25)]
out["created"] = sum(1 for c in created if c and "_id" in c)
out["get"] = things.get(created[3]["_id"])["name"]
found = things.find({"query": {"n": {"$gte": 20}, "$sort": {"n": -1}, "$select": ["name"]}})
out["gte_sorted"] = [r["name"] for r in found["data"]]
out["total"] = found["total"]
out["in"] = sorted(r["n"] for r in things.find({"query": {"n": {"$in": [1, 2, 3]}}})["data"])
out["nin_count"] = things.find({"query": {"n": {"$nin": [1, 2, 3]}, "$limit": 0}})["total"]
out["lt"] = things.find({"query": {"n": {"$lt": 2}, "$sort": {"n": 1}}})["data"][1]["n"]
out["ne_count"] = things.find({"query": {"tag": {"$ne": "odd"}, "$limit": 0}})["total"]
out["eq_string"] = things.find({"query": {"tag": "odd", "n": 5}})["total"]
out["items"] = len(list(things.items({"tag": "even"})))
out["patched"] = things.patch(created[0]["_id"], {"n": 100})["n"]
out["updated"] = things.update(created[0]["_id"], {"name": "t0", "n": 101})
out["removed"] = things.remove(created[0]["_id"])["name"]
out["after_remove"] = things.get(created[0]["_id"])

# Remote: runs, tfjs model upload, assets.
remote = Remote(backend_root=backend)
run = {
    "run_start_at": "2021-10-07T14:03:12",
    "source": "keras",
    "status": "idle",
    "params": {"epochs": 2, "lr": 0.01},
    "logs": {},
    "checkpoints": [],
    "assets": [],
}
remote.create(run)
out["run_id"] = remote.run_id
run["status"] = "epoch"
run["logs"] = {"loss": [0.8, 0.4], "val_loss": [0.9, 0.6]}
remote.update(run)

model_dir = os.path.join(work, "tfjs")
os.makedirs(model_dir, exist_ok=True)
with open(os.path.join(model_dir, "model.json"), "w") as f:
    json.dump({"format": "layers-model", "modelTopology": {}, "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": []}]}, f)
with open(os.path.join(model_dir, "group1-shard1of1.bin"), "wb") as f:
    f.write(b"\x00\x01\x02\x03")
model = remote.upload_tfjs_model(model_dir, {"name": "py-model@1", "epoch": 1})
out["model"] = {"name": model.get("name"), "format": model.get("format"), "files": [p[0] for p in model.get("files", [])]}
out["model_id"] = model.get("_id")

picture = os.path.join(work, "frame.png")
with open(picture, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)
asset = remote.upload_asset(picture, {"epoch": 1})
out["asset"] = {k: asset.get(k) for k in ("filename", "extension", "mime", "url")}

retrieved = remote.retrieve_run("2021-10-07T14:03:12")
out["retrieved"] = retrieved["_id"] if retrieved else None

# Uploader: a run folder written offline, uploaded, then found up to date.
run_dir = os.path.join(work, "marcelle-logs", "2022-01-02T03-04-05")
os.makedirs(run_dir, exist_ok=True)
with open(os.path.join(run_dir, "run_data.json"), "w") as f:
    json.dump({"run_start_at": "2022-01-02T03:04:05", "source": "keras", "status": "success",
               "params": {"batch_size": 8}, "logs": {"loss": [1.0, 0.5, 0.25]}, "checkpoints": [], "assets": []}, f)
uploader = Uploader(Remote(backend_root=backend))
uploader.upload(run_dir)
second = Remote(backend_root=backend)
out["uploaded"] = second.retrieve_run("2022-01-02T03:04:05")
Uploader(second).upload(run_dir)

out["removed_run"] = remote.remove_run({"_id": out["run_id"], "checkpoints": [{"_id": out["model_id"]}]})
print("MARCELLE-RESULT " + json.dumps(out))
