"""The words of the site's pages, one module per page, apart from the computations.

Each function takes artifacts (``metrics.json``, the cleaning summary, cached
explanations) and returns Markdown; none of them trains or computes a model result.
"""
