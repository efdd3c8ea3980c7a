"""The report of a score table: the paper's analyses (analysis.py), their figures
(figures.py), the report model (model.py) and its sections (sections.py), rendered as
report.md (markdown.py), and `csd.report`, which runs and writes them (api.py)."""
