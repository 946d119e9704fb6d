"""A JSON-friendly summary of a plums Model, compared field by field by the interop test."""
from plums.model import Checkpoint, Model


def summarise(model):
    training = model.training
    initialisation = model.initialisation
    if isinstance(initialisation, Model):
        init = {'kind': 'pmf', 'checkpoint': model.initialisation.checkpoint, 'model': summarise(initialisation)}
    elif isinstance(initialisation, Checkpoint):
        init = {'kind': 'file', 'name': initialisation.name, 'hash': initialisation.hash}
    else:
        init = None
    return {
        'name': model.name,
        'id': model.id,
        'producer': {
            'name': model.producer.name,
            'format': model.producer.version.format,
            'version': model.producer.version.version,
        },
        'build_parameters': model.build_parameters,
        'training': {
            'status': training.status,
            'start_epoch': training.start_epoch,
            'latest_epoch': training.latest_epoch,
            'end_epoch': training.end_epoch,
            'start_time': training.start_timestamp,
            'latest_time': training.latest_timestamp,
            'end_time': training.end_timestamp,
        },
        'latest': model.checkpoint_collection.latest,
        'checkpoints': [
            {'reference': reference, 'epoch': checkpoint.epoch, 'hash': checkpoint.hash}
            for reference, checkpoint in model.checkpoint_collection.items()
        ],
        'initialisation': init,
    }
