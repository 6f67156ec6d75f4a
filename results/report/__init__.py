"""The parts of ``results/summarize.py``'s report: run files to rows (:mod:`.rows`), their
labels (:mod:`.marks`), the ablation decisions (:mod:`.decisions`), featurisation changes
(:mod:`.featurization`), and the report's sections (:mod:`.intro`, :mod:`.tables`,
:mod:`.ablations`, :mod:`.agreement`, :mod:`.plot`)."""
