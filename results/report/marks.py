"""Row labels: a run's model or variant name with the marks of the adopted options and
featurisation changes it predates."""
from __future__ import annotations

from .decisions import ADOPTIONS
from .featurization import FEATURIZATION_CHANGES

ADOPTED = " (now the default)"

#: every mark a row's label may carry
MARKS = ADOPTIONS + FEATURIZATION_CHANGES


def run_label(run: dict) -> str:
    """The run's model (or ablation variant) name, with the mark of every adopted option
    (:data:`ADOPTIONS`) whose replaced value the run's config still has on its dataset, and of
    every featurisation change (:data:`FEATURIZATION_CHANGES`) the run predates:
    ``plstm (no readout BN)``, ``default (mean pooling)``, ``gine (lr 1e-3) (v1 chiral tags)``."""
    return run["model"] + "".join(m.mark for m in MARKS if m.replaced_in(run))


def marks_in(label: str, among: tuple | None = None) -> frozenset[str]:
    """The marks of ``among`` (all :data:`MARKS` where None) that a row's label carries."""
    return frozenset(m.mark for m in (MARKS if among is None else among) if m.mark in label)


def unmarked(label: str) -> str:
    """The label without its marks and without :data:`ADOPTED`: the model or variant name."""
    for mark in (*marks_in(label), ADOPTED):
        label = label.replace(mark, "")
    return label
