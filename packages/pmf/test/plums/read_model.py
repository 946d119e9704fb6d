"""Loads a PMF tree with plums (strict) and prints its summary, or the error plums raised, as JSON."""
import json
import sys

from plums.model import Model
from model_summary import summarise

try:
    print(json.dumps({'ok': True, 'model': summarise(Model.load(sys.argv[1], strict=True))}))
except Exception as error:  # noqa: B902 - the test wants to know what plums refused, whatever it was
    print(json.dumps({'ok': False, 'error': type(error).__name__, 'message': str(error)}))
