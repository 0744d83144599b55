"""`sercompress sweep`: one run config cross-validated over folds x seeds, and its summary.

- :mod:`.record`: ``sweep-summary.json`` (:class:`SweepSummary`, versioned, validated when read);
- :mod:`.aggregate`: the runs' summaries -> that record (means, spreads, pooled paired differences);
- :mod:`.execute`: the sweep itself: every run's work units through one executor, then each run
  assembled from the store into ``OUT/runs/fold{f}-seed{s}/``, then the sweep report.

Importing this package loads no TensorFlow (``compare`` reads sweep summaries).
"""

from .record import SWEEP_SUMMARY_FILE, SweepSummary, is_sweep_file, run_name

__all__ = ["SWEEP_SUMMARY_FILE", "SweepSummary", "is_sweep_file", "run_name"]
