"""The site's charts: one style module and one module per page family.

Every chart on the site comes from a ``plot_*`` function, returns a Plotly figure and never
shows it; chapters display it with :func:`show` (or :func:`show_root_page` on the front page).

Modules
    :mod:`~analysis.plots.style` the template, the palette (one colour per macro-genre, one
    per protocol, used by every chart) and the offline embedding; :mod:`~analysis.plots.data`,
    :mod:`~analysis.plots.eda`, :mod:`~analysis.plots.moods`, :mod:`~analysis.plots.modeling`
    and :mod:`~analysis.plots.drivers` the charts of those chapters (the leak chart of the
    Conclusions and the front page is a modeling chart).

Every public name is importable from ``analysis.plots`` itself, as chapters do.
"""

from __future__ import annotations

from analysis.plots import style
from analysis.plots.data import plot_cleaning_funnel
from analysis.plots.drivers import (
    plot_driver_importance,
    plot_drivers_by_macro_genre,
    plot_history_vs_track,
    plot_interaction_pair,
    plot_shap_beeswarm,
    plot_shap_dependence,
)
from analysis.plots.eda import (
    plot_binned_means,
    plot_correlation_heatmap,
    plot_explicit,
    plot_feature_distributions,
    plot_mood_grid,
    plot_popularity_by_feature,
    plot_popularity_distribution,
)
from analysis.plots.modeling import (
    plot_error_by_macro_genre,
    plot_error_by_popularity_band,
    plot_feature_ladder,
    plot_headline_r2,
    plot_interval_coverage,
    plot_leak_comparison,
    plot_leak_mechanism,
    plot_recipe_transfer,
    plot_sampling_artefacts,
    plot_transfer_by_genre,
    plot_zero_mass,
)
from analysis.plots.moods import (
    plot_effect_sizes,
    plot_group_boxes,
    plot_mood_map,
)
from analysis.plots.style import *  # noqa: F403  (its __all__, listed once there)

#: The charts, then the style's names (:data:`analysis.plots.style.__all__`).
__all__ = [
    "plot_binned_means",
    "plot_cleaning_funnel",
    "plot_correlation_heatmap",
    "plot_driver_importance",
    "plot_drivers_by_macro_genre",
    "plot_effect_sizes",
    "plot_error_by_macro_genre",
    "plot_error_by_popularity_band",
    "plot_explicit",
    "plot_feature_distributions",
    "plot_feature_ladder",
    "plot_group_boxes",
    "plot_headline_r2",
    "plot_history_vs_track",
    "plot_interaction_pair",
    "plot_interval_coverage",
    "plot_leak_comparison",
    "plot_leak_mechanism",
    "plot_mood_grid",
    "plot_mood_map",
    "plot_popularity_by_feature",
    "plot_popularity_distribution",
    "plot_recipe_transfer",
    "plot_sampling_artefacts",
    "plot_transfer_by_genre",
    "plot_shap_beeswarm",
    "plot_shap_dependence",
    "plot_zero_mass",
    *style.__all__,
]

#: Names of the chapter benchmark, which lives in :mod:`analysis.bench` now; still importable
#: from here (``tests/test_browser.py`` does), loaded on first use so that importing the
#: charts never imports the benchmark.
_MOVED_TO_BENCH = ("chapter_weights", "figure_weights", "print_chapter_weights")


def __getattr__(name: str):
    if name in _MOVED_TO_BENCH:
        from analysis import bench

        return getattr(bench, name)
    raise AttributeError(f"module 'analysis.plots' has no attribute {name!r}")
