"""Builds and saves, with plums, a model initialised from another plums model; prints its summary."""
import json
import os
import sys

from plums.model import Checkpoint, Model
from model_summary import summarise

work, destination = sys.argv[1], sys.argv[2]


def write(name, content):
    path = os.path.join(work, name)
    with open(path, 'w') as f:
        f.write(content)
    return path


base = Model('reference_producer', 'py_pa', '0.5.2', 'base', 'base-id', write('base.yaml', 'depth: 18\n'), {'depth': 18})
base.register_training_start(0)
base.add_checkpoint(Checkpoint('warm', write('base-1.bin', 'base weights'), epoch=1))
base.register_epoch(1)
base.register_training_end(True)
base.save(os.path.join(work, 'base'))

model = Model('reference_producer', 'py_pa', '1.0.post2', 'tuned', 'tuned-id',
              write('tuned.cfg', 'lr = 0.01\n'), {'depth': 18, 'classes': ['cat', 'dog'], 'dropout': 0.5})
model.register_initialisation(os.path.join(work, 'base'), checkpoint_reference='warm')
model.register_training_start(2)
model.add_checkpoint(Checkpoint(10, write('e10.bin', 'weights 10'), epoch=10))
model.register_epoch(10)
model.add_checkpoint(Checkpoint('best', write('best.bin', 'best weights'), epoch=10))
model.register_training_end(False)
model.save(destination)
print(json.dumps(summarise(Model.load(destination, strict=True))))
