"""Names readers see: protocols, models, features and drivers, each written once.

Charts, tables, the predictor page, the Jupyter widget and the prose all name things through
this module, so a protocol or a feature is called the same everywhere. It holds words only
(no computation, no heavy import): any module may import it.
"""

from __future__ import annotations

# --- protocols ---------------------------------------------------------------------------------
# Each protocol is named once, by its short name and its kind; every other form (chart label,
# table column, audience, adjective) is built from those two, so renaming one renames all:
#
#   seed_replica  "Original recipe (leaky)"  "replica (leaky)"        "leaky replica"
#   known_artist  "Known artist (honest)"    "known artist (honest)"  "known artists" "known-artist"
#   cold_start    "New artist (honest)"      "new artist (honest)"    "new artists"   "new-artist"

#: Whether a protocol's scores answer the question honestly (the replica leaks).
LEAKY, HONEST = "leaky", "honest"
PROTOCOL_KINDS: dict[str, str] = {
    "seed_replica": LEAKY,
    "known_artist": HONEST,
    "cold_start": HONEST,
}

#: A protocol's short name, as a parenthesis or a table column names it ("(known artist)").
PROTOCOL_SHORT_NAMES: dict[str, str] = {
    "seed_replica": "replica",
    "known_artist": "known artist",
    "cold_start": "new artist",
}

#: What the original's recipe is called where its scores are charted beside ours.
ORIGINAL_RECIPE = "Original recipe"


def protocol_column(protocol: str) -> str:
    """A protocol as a table column names it: its short name and its kind.

    Examples
    --------
    >>> protocol_column("seed_replica"), protocol_column("cold_start")
    ('replica (leaky)', 'new artist (honest)')
    """
    return f"{PROTOCOL_SHORT_NAMES[protocol]} ({PROTOCOL_KINDS[protocol]})"


#: How a chart or a table names each evaluation protocol (the leaky one says so).
PROTOCOL_LABELS: dict[str, str] = {
    "seed_replica": f"{ORIGINAL_RECIPE} ({LEAKY})",
    "known_artist": protocol_column("known_artist").capitalize(),
    "cold_start": protocol_column("cold_start").capitalize(),
}

#: Who a protocol's champion is for, as prose names it ("for new artists, ...").
PROTOCOL_AUDIENCES: dict[str, str] = {
    "seed_replica": f"{LEAKY} {PROTOCOL_SHORT_NAMES['seed_replica']}",
    "known_artist": PROTOCOL_SHORT_NAMES["known_artist"] + "s",
    "cold_start": PROTOCOL_SHORT_NAMES["cold_start"] + "s",
}

#: The case an honest protocol predicts, as a table row or a bar names it ("new artist").
PROTOCOL_CASES: dict[str, str] = {
    "known_artist": "new track, " + PROTOCOL_SHORT_NAMES["known_artist"],
    "cold_start": PROTOCOL_SHORT_NAMES["cold_start"],
}

#: An honest protocol's model as the reader-facing pages call it ("the new-artist model").
PROTOCOL_ADJECTIVES: dict[str, str] = {
    p: PROTOCOL_SHORT_NAMES[p].replace(" ", "-") for p in ("known_artist", "cold_start")
}

#: The two champions as the technical pages name them after their protocol ("the cold-start
#: model", "the cold-start protocol").
PROTOCOL_MODEL_NAMES: dict[str, str] = {
    p: p.replace("_", "-") for p in ("known_artist", "cold_start")
}

#: The driver group holding the target-derived artist-history columns.
ARTIST_HISTORY_GROUP = "artist history"

#: The champions as the predictor page and the Jupyter widget offer them.
PREDICTOR_MODEL_NAMES: dict[str, str] = {
    "cold_start": f"{PROTOCOL_SHORT_NAMES['cold_start'].capitalize()} (cold start)",
    "known_artist": (f"{PROTOCOL_SHORT_NAMES['known_artist'].capitalize()} "
                     f"(with {ARTIST_HISTORY_GROUP})"),
}

#: How tables, charts and ``metrics.json`` name each model (each model's ``label`` there is
#: this text, so changing one changes the build's artifact). The hit classifier's threshold
#: is :data:`analysis.models.HIT_THRESHOLD` (a test keeps the two equal).
MODEL_LABELS: dict[str, str] = {
    "linear_regression": "Linear Regression",
    "xgboost_hit_classifier": "XGBoost hit classifier (popularity >= 60)",
    "random_forest": "Random Forest (300 trees)",
    "xgboost": "XGBoost (defaults)",
    "xgboost_tuned": "XGBoost (tuned)",
    "hist_gradient_boosting": "HistGradientBoosting",
    "xgboost_hurdle": "XGBoost hurdle (zero / non-zero)",
    "xgboost_monotone": "XGBoost tuned, monotone in artist mean",
    "xgboost_transfer": "XGBoost tuned, transfer recipe",
}

#: Audio features and popularity as axis titles, with their units.
FEATURE_LABELS: dict[str, str] = {
    "danceability": "Danceability (0–1)",
    "energy": "Energy (0–1)",
    "speechiness": "Speechiness (0–1)",
    "acousticness": "Acousticness (0–1)",
    "instrumentalness": "Instrumentalness (0–1)",
    "liveness": "Liveness (0–1)",
    "valence": "Valence (0–1, positivity)",
    "loudness": "Loudness (dB)",
    "tempo": "Tempo (BPM)",
    "duration_min": "Duration (minutes)",
    "key": "Key (pitch class, 0 = C)",
    "mode": "Mode (0 = minor, 1 = major)",
    "time_signature": "Time signature (beats per bar)",
    "popularity": "Popularity (0–100)",
}


def feature_label(feature: str) -> str:
    """A feature's axis title (its own name if it has none).

    Examples
    --------
    >>> feature_label("tempo"), feature_label("n_artists")
    ('Tempo (BPM)', 'n_artists')
    """
    return FEATURE_LABELS.get(feature, feature)


def feature_name(feature: str) -> str:
    """A feature's name inside a sentence: its label without the unit, lower case.

    Examples
    --------
    >>> feature_name("valence")
    'valence'
    """
    return feature_label(feature).split(" (")[0].lower()


def feature_unit(feature: str) -> str:
    """The unit in a feature's label (the label itself when it has none).

    Examples
    --------
    >>> feature_unit("tempo")
    'BPM'
    """
    return feature_label(feature).split(" (")[-1].rstrip(")")


#: What each multi-column driver group holds (the Drivers chapter's importance table).
DRIVER_GROUP_DESCRIPTIONS: dict[str, str] = {
    "genre": "genre (one-hot primary genre)",
    "macro-genre": "macro-genre (one-hot)",
    "title text": "title markers (remix, live, feat., length, ...)",
    "album-name text": "album-name markers (compilation, year, deluxe, ...)",
    ARTIST_HISTORY_GROUP: "artist history (mean, count, best of other tracks)",
}

#: Short chart labels of the drivers that are not one audio feature.
DRIVER_LABELS: dict[str, str] = {
    "genre": "genre",
    "macro-genre": "macro-genre",
    "title text": "title markers",
    "album-name text": "album-name markers",
    ARTIST_HISTORY_GROUP: "artist history",
    "duration_ms": "duration",
    "n_artists": "credited artists",
    "is_single": "single release",
    "explicit": "explicit",
}

#: How a sentence names the drivers that are not one audio feature.
DRIVER_NAMES: dict[str, str] = {
    "genre": "the primary genre",
    "macro-genre": "the macro-genre",
    "title text": "title markers",
    "album-name text": "album-name markers",
    ARTIST_HISTORY_GROUP: "artist history",
    "duration_ms": "duration",
    "n_artists": "the number of credited artists",
    "is_single": "single-or-album release",
    "explicit": "the explicit flag",
}

#: The predictor's controls (the site's page and the Jupyter widget) by model column: a name
#: without its unit, which the control shows beside it.
CONTROL_LABELS: dict[str, str] = {
    "duration_ms": "Duration", "loudness": "Loudness", "tempo": "Tempo", "key": "Key",
    "time_signature": "Time signature", "mode": "Major mode", "explicit": "Explicit lyrics",
    "n_artists": "Credited artists", "title_length": "Title length",
    "album_length": "Album name length",
    "artist_mean_popularity": "Artist mean popularity",
    "artist_n_tracks": "Artist's other tracks",
    "artist_max_popularity": "Artist best popularity",
}

#: Axis titles, with units, of model columns that are not in :data:`FEATURE_LABELS`
#: (``duration_ms`` is in milliseconds there, not minutes).
COLUMN_AXIS_LABELS: dict[str, str] = {
    "duration_ms": "Duration (ms)",
    "n_artists": CONTROL_LABELS["n_artists"],
    "artist_mean_popularity": "Artist's mean popularity (0–100)",
    "artist_n_tracks": CONTROL_LABELS["artist_n_tracks"],
    "title_length": CONTROL_LABELS["title_length"],
}


def driver_label(group: str) -> str:
    """A driver group's short chart label (an audio feature keeps its label, without unit).

    Examples
    --------
    >>> driver_label("title text"), driver_label("loudness")
    ('title markers', 'loudness')
    """
    if group in DRIVER_LABELS:
        return DRIVER_LABELS[group]
    label = feature_label(group).split(" (")[0]
    return label[:1].lower() + label[1:]


def driver_name(group: str) -> str:
    """How a sentence names a driver group (an audio feature by its own name).

    Examples
    --------
    >>> driver_name("genre"), driver_name("acousticness")
    ('the primary genre', 'acousticness')
    """
    return DRIVER_NAMES.get(group, group)


def column_axis_label(column: str) -> str:
    """Axis title, with unit, of a model column.

    Examples
    --------
    >>> column_axis_label("duration_ms"), column_axis_label("energy")
    ('Duration (ms)', 'Energy (0–1)')
    """
    return COLUMN_AXIS_LABELS.get(column) or feature_label(column)


#: How a step of the feature ladder that adds driver groups starts ("+ title markers").
LADDER_STEP_PREFIX = "+ "
#: The ladder's first step: the original's columns, with the genre when the model reads it.
ORIGINAL_STEP, GENRE_STEP = "original columns", " + genre"
#: The ladder chart's axis: one place per kind of input a step adds (``part`` of a step), in
#: ladder order; each model's own step names are in the hover.
LADDER_PART_AXIS: dict[str, str] = {
    "original": "original columns<br>(+ genre, if read)",
    "credits": "+ credited artists<br>(+ single release, if read)",
    "title text": "+ title markers",
    "album-name text": "+ album-name markers",
    ARTIST_HISTORY_GROUP: "+ artist history",
}


def ladder_step(*groups: str) -> str:
    """The name of a feature-ladder step that adds ``groups`` (their chart labels).

    Examples
    --------
    >>> ladder_step("n_artists", "is_single"), ladder_step("title text")
    ('+ credited artists, single release', '+ title markers')
    """
    return LADDER_STEP_PREFIX + ", ".join(driver_label(group) for group in groups)


# --- other crawls (issue 13) ---------------------------------------------------------------------
# The champions are also scored, without retraining, on two datasets gathered independently of
# the one this site studies (``models/external.json``). Each is named once, by a short name and
# when its tracks are from (checked against the artifact's sources by tests/test_labels.py):
#
#   music_genre  "music_genre, 2021"          "on another crawl (music_genre, 2021)"
#   billboard    "Billboard hits, 1960–2019"  "on another crawl (Billboard hits, 1960–2019)"

#: An external set as a sentence names it once the page has introduced it.
EXTERNAL_SET_SHORT_NAMES: dict[str, str] = {
    "music_genre": "music_genre",
    "billboard": "Billboard hits",
}

#: When an external set's tracks are from: music_genre's crawl, Billboard's charts.
EXTERNAL_SET_PERIODS: dict[str, str] = {
    "music_genre": "2021",
    "billboard": "1960–2019",
}

#: An external set as a parenthesis, a table row or a legend names it.
EXTERNAL_SET_LABELS: dict[str, str] = {
    name: f"{short}, {EXTERNAL_SET_PERIODS[name]}"
    for name, short in EXTERNAL_SET_SHORT_NAMES.items()
}

#: What the site studies, as the external sets are set beside it.
THIS_CRAWL = "this crawl"

#: The music_genre tracks the known-artist champion is scored on (its artist history needs an
#: artist this crawl holds).
KNOWN_ARTIST_SUBSET = "tracks by artists this crawl knows"

#: The slices of this crawl the external scores are read against (``external.json``
#: ``in_data.<champion>.<slice>``).
IN_DATA_SLICES: dict[str, str] = {
    "all": "all tracks",
    "new_release": "new releases",
}

#: The model inputs an external set may lack, as a sentence names them (its fill rules).
INPUT_NAMES: dict[str, str] = {
    "track_genre": "genre",
    "album_name": "album name",
    "explicit": "explicit flag",
    "time_signature": "time signature",
    "key": "key and mode",
    "artists": "artists",
}


def external_scope(name: str) -> str:
    """Where a skill figure measured on an external set holds, as a tile or a card says it.

    Examples
    --------
    >>> external_scope("music_genre")
    'on another crawl (music_genre, 2021)'
    """
    return f"on another crawl ({EXTERNAL_SET_LABELS[name]})"


def in_data_row(slice_: str) -> str:
    """An in-data slice as a table row names it, beside the external sets.

    Examples
    --------
    >>> in_data_row("new_release")
    'This crawl, new releases (out of fold)'
    """
    return f"{THIS_CRAWL.capitalize()}, {IN_DATA_SLICES[slice_]} (out of fold)"


# --- recipes compared for transfer (models/transfer.json) ------------------------------------

#: Each model recipe of :data:`analysis.external.candidates.CANDIDATES`, as a table row names it.
RECIPE_LABELS: dict[str, str] = {
    "champion_recipe": "Every input, every track (the tuned model's recipe)",
    "without_genre_labels": "Without the 114 genre labels (macro-genre kept)",
    "without_genre": "Without genre",
    "without_genre_or_album": "Without genre or album markers",
    "without_genre_album_or_title": "Without genre, album or title markers",
    "audio_only": "Audio features and duration only",
    "champion_recipe_clean_rows": "Every input, trained without crawl copies",
    "without_genre_or_album_clean_rows": "Without genre or album, trained without crawl copies",
    "without_genre_or_album_clean_rows_regularised":
        "Without genre or album, without crawl copies, stronger regularisation",
    "without_genre_or_album_relative_to_genre":
        "Without genre or album, popularity relative to the genre's mean",
    "all_inputs_blanked": "Every input, missing inputs seen in training",
    "all_inputs_blanked_clean_rows":
        "Every input, missing inputs seen in training, without crawl copies",
    "macro_genres_blanked": "Macro-genre only, missing inputs seen in training",
    "without_genre_or_album_blanked": "Without genre or album, missing inputs seen in training",
    "without_genre_or_album_clean_rows_blanked":
        "Without genre or album, without crawl copies, missing inputs seen in training",
}

#: The measures of the transfer comparison (``section.metric``), as a table column names them.
TRANSFER_MEASURE_LABELS: dict[str, str] = {
    "in_data.spearman": "This crawl, pooled Spearman",
    "in_data.spearman_within_genre": "This crawl, within-genre Spearman",
    "in_data.r2": "This crawl, R²",
    "in_data.hit_auc": "This crawl, hit ROC-AUC",
    "new_release.spearman": "New releases, pooled Spearman",
    "new_release.spearman_within_genre": "New releases, within-genre Spearman",
    "new_release.hit_auc": "New releases, hit ROC-AUC",
    "macro_genre_holdout.spearman_within_macro": "Unseen macro-genre, Spearman inside it",
    "macro_genre_holdout.spearman_within_genre": "Unseen macro-genre, within-genre Spearman",
    "music_genre.spearman": "music_genre, pooled Spearman",
    "music_genre.spearman_within_genre": "music_genre, within-genre Spearman",
    "music_genre.hit_auc": "music_genre, hit ROC-AUC",
    "billboard.hit_auc": "Billboard hits, hit ROC-AUC",
}
