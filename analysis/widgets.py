"""The Jupyter predictor: the browser page's "what if", for analysts, over the Python champions.

:func:`predictor` builds an ipywidgets form over :func:`analysis.models.load` champions. It
differs from the site's page (``chapters/06-predictor.qmd``) in two ways that suit a notebook:
values are typed, not only dragged, and they go through the same contract as any user file
(:func:`analysis.schema.validate_tracks`, inside :meth:`Champion.predict_table`), so a bad
value shows the schema's message, naming the column, instead of a prediction. Nothing is ever
written to disk.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.labels import (
    CONTROL_LABELS,
    PREDICTOR_MODEL_NAMES,
    PROTOCOL_ADJECTIVES,
    feature_label,
)

__all__ = ["MODEL_LABELS", "predictor", "row_from_values"]

#: Selector labels (same wording as the site's predictor).
MODEL_LABELS: dict[str, str] = PREDICTOR_MODEL_NAMES

# (column, default) in the raw dataset's columns and units, each labelled as the charts label
# it (:func:`analysis.labels.feature_label`); the form shows duration in minutes and converts
# it to ``duration_ms``.
_NUMBERS: tuple[tuple[str, float], ...] = (
    ("danceability", 0.58), ("energy", 0.68), ("loudness", -7.0), ("speechiness", 0.05),
    ("acousticness", 0.19), ("instrumentalness", 0.0), ("liveness", 0.13), ("valence", 0.46),
    ("tempo", 122.0), ("duration_min", 3.55),
)
_INTEGERS: tuple[tuple[str, int], ...] = (("key", 5), ("mode", 1), ("time_signature", 4))


def row_from_values(values: Mapping[str, Any]) -> pd.DataFrame:
    """One-row frame in the raw dataset's columns from the form's values.

    Examples
    --------
    >>> row = row_from_values({"duration_min": 3.0, "explicit": True, "genre": "pop",
    ...                        "track_name": "Song", "album_name": "Song", "artists": "A"})
    >>> int(row.loc[0, "duration_ms"]), row.loc[0, "track_genre"]
    (180000, 'pop')
    """
    row: dict[str, Any] = {}
    for column, _ in _NUMBERS:
        if column == "duration_min":
            minutes = values.get("duration_min")
            row["duration_ms"] = None if minutes is None else round(float(minutes) * 60000)
        else:
            row[column] = values.get(column)
    for column, _ in _INTEGERS:
        row[column] = values.get(column)
    row["explicit"] = bool(values.get("explicit", False))
    row["track_genre"] = values.get("genre")
    for column in ("track_name", "album_name", "artists"):
        row[column] = values.get(column, "")
    return pd.DataFrame([row])


def predictor(
    *, models_dir: str | os.PathLike | None = None,
    names: Sequence[str] = ("cold_start", "known_artist"),
    confidence: float = 0.9,
) -> Any:
    """An ipywidgets form that predicts popularity with the selected champion.

    Parameters
    ----------
    models_dir : path-like, optional
        Folder with ``champions/`` (default: the committed ``models/``).
    names : sequence of str
        Champions offered by the selector, in order.
    confidence : float, default 0.9
        Level of the conformal interval shown.

    Returns
    -------
    ipywidgets.VBox
        The form. For scripted use and tests it also carries ``controls`` (dict of input
        widgets by column, plus ``"model"``), ``result`` (the last prediction as a dict, or
        ``None`` after an error), ``error`` (the last error message or ``None``),
        ``output`` (the HTML widget showing either) and ``refresh()``.

    Notes
    -----
    Every change re-runs :meth:`analysis.models.Champion.predict_table` on a one-row
    frame; a value the schema refuses (say danceability 1.5) shows
    :class:`analysis.schema.TrackDataError`'s message and no prediction. Changing the model
    selector switches the champion used (the original's demo ignored its dropdown).

    .. warning:: Loads each champion on first use (a few MB, well under a second).
    """
    import html as html_lib

    import ipywidgets as widgets

    from analysis.genres import load_taxonomy
    from analysis.models import HIT_THRESHOLD, load
    from analysis.schema import TrackDataError

    cache: dict[str, Any] = {}

    def champion(name: str):
        if name not in cache:
            cache[name] = load(name, models_dir=models_dir)
        return cache[name]

    style = {"description_width": "16em"}
    layout = widgets.Layout(width="30em")
    controls: dict[str, Any] = {
        "model": widgets.Dropdown(
            options=[(MODEL_LABELS.get(n, n), n) for n in names], value=names[0],
            description="Model", style=style, layout=layout),
    }
    for column, default in _NUMBERS:
        controls[column] = widgets.FloatText(value=default, description=feature_label(column),
                                             style=style, layout=layout)
    for column, default in _INTEGERS:
        controls[column] = widgets.IntText(value=default, description=feature_label(column),
                                           style=style, layout=layout)
    controls["explicit"] = widgets.Checkbox(value=False, description=CONTROL_LABELS["explicit"],
                                            style=style)
    genres = [str(g) for g in load_taxonomy()["genre"]]
    controls["genre"] = widgets.Dropdown(options=genres,
                                         value="pop" if "pop" in genres else genres[0],
                                         description="Genre", style=style, layout=layout)
    controls["track_name"] = widgets.Text(value="New track", description="Track title",
                                          style=style, layout=layout)
    controls["album_name"] = widgets.Text(value="New track", description="Album name",
                                          style=style, layout=layout)
    controls["artists"] = widgets.Text(
        value="", description="Artists (';'-separated)", style=style, layout=layout,
        placeholder=f"{PROTOCOL_ADJECTIVES['known_artist']} model looks up the first one")
    output = widgets.HTML()
    box = widgets.VBox([*controls.values(), output])
    box.controls = controls
    box.output = output
    box.result = None
    box.error = None

    def refresh(*_: Any) -> None:
        name = controls["model"].value
        values = {key: widget.value for key, widget in controls.items() if key != "model"}
        frame = row_from_values(values)
        try:
            table = champion(name).predict_table(frame, confidence=confidence,
                                                 name="predictor input")
        except TrackDataError as exc:
            box.result, box.error = None, str(exc)
            output.value = ("<div style='color:#b00020'><b>Input refused</b><pre>"
                            f"{html_lib.escape(str(exc))}</pre></div>")
            return
        row = table.iloc[0]
        hit = float(row["hit_probability"])
        box.error = None
        box.result = {"model": name, "prediction": float(row["prediction"]),
                      "lower": float(row["lower"]), "upper": float(row["upper"]),
                      "confidence": confidence, "hit_probability": hit}
        output.value = (
            f"<div><b>{html_lib.escape(MODEL_LABELS.get(name, name))}</b>: predicted "
            f"popularity <b>{row['prediction']:.1f}</b> / 100, {confidence:.0%} interval "
            f"{row['lower']:.1f} to {row['upper']:.1f}; hit probability (popularity >= "
            f"{HIT_THRESHOLD}) "
            f"{hit:.0%}</div>")

    for widget in controls.values():
        widget.observe(refresh, names="value")
    box.refresh = refresh
    refresh()
    return box
