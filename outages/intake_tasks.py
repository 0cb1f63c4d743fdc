"""Old path of ``outages.tasks.intake``, kept for ``outages.services.rollup_service`` only.

Remove once that module imports ``outages.tasks.intake`` (its owner's change).
"""

from outages.tasks.intake import rollup_run_task

__all__ = ["rollup_run_task"]
