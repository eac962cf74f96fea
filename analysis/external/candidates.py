"""The model recipes compared for what transfers to other crawls.

Each candidate is a :class:`~analysis.models.recipes.Recipe` for the cold-start popularity model
and its hit classifier: which columns of the cold-start matrix it reads, which training rows it
learns from, what it predicts (popularity, or popularity relative to the genre's mean), how
strongly it is regularised, and which inputs it saw blanked on part of its training rows.
Everything else is held fixed (the tuned cold-start model's parameters, the fixed
hit-classifier parameters), so two candidates differ only in what the comparison asks about.

Why blanking (:mod:`analysis.models.blanking`): a model trained with every input always
present meets the inputs other crawls lack missing for the first time outside the data, and
its external score then depends on how the gap is encoded (``fill_sensitivity`` in
``models/external.json``).
"""

from __future__ import annotations

from analysis.models.blanking import INPUT_GROUPS
from analysis.models.recipes import NO_GENRE, TRANSFER_RECIPE, Recipe

__all__ = [
    "CANDIDATES",
    "CURRENT_RECIPE",
    "candidate",
    "hit_classifier_recipe",
]

#: The recipe both new-artist models had when the comparison ran (every input, all rows, never
#: blanked): what the selection rule measures its choice against (``current_recipe`` in
#: ``models/transfer.json``). Both have followed the rule's choices since: the popularity model
#: :data:`~analysis.models.recipes.TRANSFER_RECIPE`, the hit classifier
#: :func:`hit_classifier_recipe`.
CURRENT_RECIPE = "champion_recipe"

#: Every recipe compared, the committed champion's first. The rule that chooses among them is
#: :mod:`analysis.external.selection`; training on the external crawls is not among them (their
#: sources are for evaluation only).
CANDIDATES: tuple[Recipe, ...] = (
    Recipe(CURRENT_RECIPE),
    Recipe("without_genre_labels", drop=("genre_labels",)),
    Recipe("without_genre", drop=NO_GENRE),
    Recipe("without_genre_or_album", drop=(*NO_GENRE, "album")),
    Recipe("without_genre_album_or_title", drop=(*NO_GENRE, "album", "title")),
    Recipe("audio_only", drop=("all_but_audio",)),
    Recipe("champion_recipe_clean_rows", training_rows="clean"),
    Recipe("without_genre_or_album_clean_rows", drop=(*NO_GENRE, "album"),
           training_rows="clean"),
    Recipe("without_genre_or_album_clean_rows_regularised", drop=(*NO_GENRE, "album"),
           training_rows="clean", stronger_regularisation=True),
    Recipe("without_genre_or_album_relative_to_genre", drop=(*NO_GENRE, "album"),
           target="relative_to_genre"),
    Recipe("all_inputs_blanked", blanked=INPUT_GROUPS),
    Recipe("all_inputs_blanked_clean_rows", training_rows="clean", blanked=INPUT_GROUPS),
    Recipe("macro_genres_blanked", drop=("genre_labels",), blanked=INPUT_GROUPS),
    Recipe("without_genre_or_album_blanked", drop=(*NO_GENRE, "album"),
           blanked=("explicit", "time_signature")),
    TRANSFER_RECIPE,
)


def hit_classifier_recipe(blanked: tuple[str, ...]) -> str:
    """The recipe a champion's hit classifier follows: every input, all rows, with the inputs
    ``blanked`` blanked in training (what the build records as its ``blanked_inputs``).

    Examples
    --------
    >>> hit_classifier_recipe(()), hit_classifier_recipe(INPUT_GROUPS)
    ('champion_recipe', 'all_inputs_blanked')
    """
    for c in CANDIDATES:
        if (not c.drop and c.training_rows == "all" and c.target == "popularity"
                and not c.stronger_regularisation and set(c.blanked) == set(blanked)):
            return c.name
    raise KeyError(f"no recipe reads every input of all rows with {list(blanked)} blanked")


def candidate(name: str) -> Recipe:
    """The candidate called ``name``."""
    for c in CANDIDATES:
        if c.name == name:
            return c
    raise KeyError(f"no candidate {name!r}; expected one of {[c.name for c in CANDIDATES]}")


