"""The datasets the report covers: its sections, the published anchors beside them and
why a dataset has no runs yet."""
from __future__ import annotations

# Published test numbers (mean, std) for context, in the metric OGB scores the dataset by; None
# where no std is published. ogbg-molmuv has none: OGB scores it by AP, and the published GIN
# rows (TorchDrug, Hu et al. 2020) give ROC-AUC.
ANCHORS = {
    "ogbg-molhiv": [("GIN + virtual node (OGB)", 0.7707, 0.0149),
                    ("GatedGCN+ (Luo et al. 2025)", 0.8040, 0.0164)],
    "ogbg-molpcba": [("GIN + virtual node (OGB)", 0.2703, 0.0023)],
    "ogbg-molbbbp": [("GIN, no pretrain (TorchDrug)", 0.671, 0.029)],
    "ogbg-molbace": [("GIN, no pretrain (TorchDrug)", 0.665, 0.090)],
    "ogbg-molclintox": [("GIN, no pretrain (TorchDrug)", 0.608, 0.039)],
    "ogbg-molsider": [("GIN, no pretrain (TorchDrug)", 0.589, 0.008)],
    "ogbg-moltox21": [("GIN, no pretrain (TorchDrug)", 0.750, 0.002)],
    "ogbg-moltoxcast": [("GIN, no pretrain (TorchDrug)", 0.606, 0.007)],
    "MUTAG": [("pLSTM (paper)", 0.8512, 0.06), ("GIN (paper)", 0.8251, 0.10)],
    "NCI1": [("pLSTM (paper)", 0.7324, 0.03), ("GIN (paper)", 0.8175, 0.02)],
    "PROTEINS": [("pLSTM (paper)", 0.7502, 0.05), ("GIN (paper)", 0.7350, 0.04)],
    "PTC_FM": [("pLSTM (paper)", 0.6133, 0.08), ("GIN (paper)", 0.6097, 0.10)],
    "peptides-func": [("pLSTM (paper)", 0.536, None), ("GIN (paper)", 0.593, None)],
}
GROUPS = [
    ("OGB", ["ogbg-molhiv", "ogbg-molpcba"]),
    ("MoleculeNet (OGB scaffold splits)",
     ["ogbg-molbbbp", "ogbg-molbace", "ogbg-molclintox", "ogbg-molsider", "ogbg-moltox21",
      "ogbg-moltoxcast", "ogbg-molmuv", "ogbg-molesol", "ogbg-molfreesolv", "ogbg-mollipo"]),
    ("TU (pLSTM paper protocol: 10-fold, 8/1/1, seed 42)", ["MUTAG", "NCI1", "PROTEINS", "PTC_FM"]),
    ("Long range (LRGB)", ["peptides-func"]),
]

#: why a dataset has no runs yet (costs measured on this 2-core CPU, one thread per training)
NOT_RUN_REASONS = {
    "ogbg-molpcba": "its molecules are not in the offline data (`../shared/data` holds the split "
                    "only) and nothing can be downloaded here.",
}
