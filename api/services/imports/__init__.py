"""Imports: a file in, checked at the gate, written in batches, reported in full.

The package reads as the pipeline, one module per stage, each a class the next builds on:

* ``lifecycle``: the job's life: ``create`` stores the upload in chunks and the options,
  ``start`` lets one worker claim it, ``run`` runs it, ``prepare_retry`` and
  ``sweep_interrupted`` deal with a worker that died;
* ``state``: what one run carries through its stages (``JobState``);
* ``read`` (with ``crs``): a row's geometry in WGS 84, from the file (in its CRS) or
  coordinate columns;
* ``book`` and ``report``: the lines of a row (refused, repaired, flagged) with its
  reference, counted by rule and bounded (``Book``), and what ``GET /imports/{id}`` shows
  (``report``);
* ``map``: a row's values through the profile into ours, every problem of a row in one pass;
* ``gate``: the spatial quality gate over a batch (the intake, vectorised where a row passes
  untouched; programme extent and area bound in one query; shape findings; duplicates);
* ``write``: hazards, new ones set-based (COPY), changed ones as versioned edits;
* ``activities``, ``eo_finds``, ``layers``: the other kinds' rows (activities and releases,
  explosive-ordnance finds, admin areas and context layers);
* ``job``: one run (``Job``): each batch through read, map, gate and write, then the report.

Modes:

* ``dry_run``: everything is done inside a transaction that is rolled back, so the report
  (created / updated / unchanged / rejected / flagged) is exactly what ``commit`` would do.
* ``commit``: each batch is committed on its own; a bad row is reported and the good rows stay.
* ``commit`` + ``atomic``: one transaction, committed only when no row was rejected.

Re-importing the same file changes nothing: a row whose stated values and geometry equal the
hazard's current state, with a date of information no newer, is counted as unchanged. A row
dated before what is stored is recorded in the hazard's history only (domain.md §0).
"""

from api.services.imports.book import (
    COUNT_KEYS,
    IMPORT_STAGES,
    REVIEW_BUDGET,
    REVIEW_VERTICES,
    Book,
)
from api.services.imports.common import (
    CONTEXT_LAYERS,
    SUPPORTED_KINDS,
    ImportFailed,
)
from api.services.imports.job import Job
from api.services.imports.lifecycle import (
    create,
    prepare_retry,
    require_importer,
    run,
    start,
    sweep_interrupted,
)
from api.services.imports.report import generalise_positions, report

__all__ = [
    "COUNT_KEYS",
    "CONTEXT_LAYERS",
    "IMPORT_STAGES",
    "REVIEW_BUDGET",
    "REVIEW_VERTICES",
    "SUPPORTED_KINDS",
    "Book",
    "ImportFailed",
    "Job",
    "create",
    "generalise_positions",
    "prepare_retry",
    "report",
    "require_importer",
    "run",
    "start",
    "sweep_interrupted",
]
