"""``sercompress search``: the most accurate variant that fits a device (issue 15).

:mod:`.space` the search space and recipe files, :mod:`.constraints` a file's
budgets measured as ``check`` does, :mod:`.study` the Optuna study per device,
:mod:`.record` the typed records, :mod:`.run` the whole search and its outputs.
"""

from .record import SearchResult, TrialRecord
from .run import run_search
from .space import SearchSpace, load_space

__all__ = ["SearchResult", "SearchSpace", "TrialRecord", "load_space", "run_search"]
