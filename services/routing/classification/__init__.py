"""The router: from a complaint's text, category and location to the responsible unit.

- `text`: normalisation of informal Indonesian into stems (data in `data/text.json`);
- `lexicon`: programmes, documents and institutions citizens name by acronym;
- `rules`: weighted phrase rules (the catalogue's keywords and `data/rules.json`);
- `model`: the linear text classifier (scikit-learn logistic regression for training, a
  dependency-light scorer for inference) and its storage form;
- `router`: combines the evidence and decides, with reasons in Bahasa Indonesia;
- `examples`: the labelled training texts; `scoring`: reports and promotion;
- `naive_bayes`: the earlier pure-Python classifier, kept as a baseline for the evaluation.
"""
