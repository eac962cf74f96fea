"""The words of the site's pages, one module per page, apart from the computations.

Each page module has the same shape:

* ``facts(...) -> dict``: every number the page quotes, computed with the analysis modules
  or read from the artifacts (``metrics.json``, the cleaning summary, the cached
  explanations); numbers and identifiers only, no wording;
* templates: module constants holding the wording, with ``str.format`` fields for the facts
  and no computation (``tests/test_prose_numbers.py`` fails on a digit typed in one);
* one short function per sentence or table, which fills a template from the facts and picks
  the words a number decides (by its sign: "raises" or "lowers"; by its size: "weak").

Pages: :mod:`~analysis.prose.data`, :mod:`~analysis.prose.eda`,
:mod:`~analysis.prose.moods` (genre moods and the outlier lists),
:mod:`~analysis.prose.modeling`, :mod:`~analysis.prose.drivers`,
:mod:`~analysis.prose.conclusions` and :mod:`~analysis.prose.front` (``index.qmd``);
:mod:`~analysis.prose.transfer` holds the other crawls' facts (``models/external.json``) that
the Modeling chapter and the front page word, and a verdict for the Conclusions;
:mod:`~analysis.prose.modeling_transfer` words the Modeling section on them ("Does it hold
elsewhere?"), and :mod:`~analysis.prose.modeling` re-exports its functions. Names of
protocols, models, features and drivers come from :mod:`analysis.labels`. The submodules are
imported on use (``from analysis.prose import eda``): the Modeling words need the model code,
the Data words do not.
"""

__all__ = ["conclusions", "data", "drivers", "eda", "front", "modeling", "modeling_transfer",
           "moods", "transfer"]
