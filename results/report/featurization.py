"""Featurisation versions that changed the graphs of some datasets: the runs made with the
version replaced carry a mark and compare with each other only."""
from __future__ import annotations

from dataclasses import dataclass

#: the datasets whose graphs ``ogb9x3-rank-v3`` changed, with the number of molecules: those with
#: a stereocentre two of whose neighbours are constitutionally equivalent, whose tag, now its CIP
#: label, differs from the one read in canonical-rank order (the test checks this on the data)
CIS_TRANS_CHANGED = {"ogbg-molclintox": 4, "ogbg-mollipo": 45, "ogbg-moltox21": 17,
                     "ogbg-moltoxcast": 22}
CIS_TRANS_DATASETS = tuple(CIS_TRANS_CHANGED)

#: the featurisation of a run file without a ``featurizer`` key: the key came four commits
#: after ``ogb9x3-rank-v2`` and no committed run made from those commits lacks it, so such a run
#: was made with the version before
UNRECORDED_FEATURIZER = "ogb9x3-rank-v1"


@dataclass(frozen=True)
class FeaturizationChange:
    """A featurisation version that changed the graphs of some datasets: the runs on them made
    with the version it replaced carry its mark, and compare with each other only, like the runs
    an :class:`report.decisions.Adoption` marks. ``note`` says, in the section pairing the rerun
    rows with the marked ones, what the change was."""
    replaced: str
    mark: str
    datasets: tuple[str, ...]
    note: str

    def replaced_in(self, run: dict) -> bool:
        return (run["dataset"] in self.datasets
                and run.get("featurizer", UNRECORDED_FEATURIZER) == self.replaced)


#: the datasets with chiral tags (``@`` in their SMILES): ``ogb9x3-rank-v2`` changed the chiral
#: tag feature, so their graphs only (``tests/test_summarize.py`` checks the list on the data)
CHIRAL_DATASETS = ("ogbg-molbace", "ogbg-molbbbp", "ogbg-molclintox", "ogbg-molfreesolv",
                   "ogbg-mollipo", "ogbg-molsider", "ogbg-moltox21", "ogbg-moltoxcast",
                   "peptides-func")
FEATURIZATION_CHANGES = (
    FeaturizationChange(
        "ogb9x3-rank-v1", " (v1 chiral tags)", CHIRAL_DATASETS,
        "A training is deterministic: the code just before the tag fix (`60926f9`) gave GINE's "
        "old FreeSolv runs again to four decimals, and since then the library changed in the "
        "tags and in file handling only, so a row's differences come from the tags, carried "
        "through every later step of training."),
    FeaturizationChange(
        "ogb9x3-rank-v2", " (v2 chiral tags)", CIS_TRANS_DATASETS,
        "`ogb9x3-rank-v3` changed the tag of ring cis/trans and pseudo-asymmetric centres only "
        "(the intro above), in a few molecules of these datasets; a row's differences come "
        "from those graphs, carried through every later step of training."),
)
