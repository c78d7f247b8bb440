"""Place names follow one convention, in maps and text alike (issue 16, defect 8).

The name used by the country where the place lies comes first, then the other side's name where
the two differ; undisputed places in Georgia, Türkiye and Iran get their usual English name only.
The convention is stated in `course/lessons/maps.py` and in the README.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from course.data import load
from course.lessons.maps import both_names

ROOT = Path(__file__).resolve().parents[1]


def _places():
    return load("gazetteer").set_index("place_id")


@pytest.mark.parametrize(("place_id", "label"), [
    ("stepanakert_khankendi", "Khankendi / Stepanakert"),
    ("lachin_berdzor", "Lachin / Berdzor"),
    ("shushi_shusha", "Shusha / Shushi"),
    ("nakhchivan", "Nakhchivan / Nakhijevan"),
    ("zangilan", "Zangilan / Kovsakan"),
    ("julfa_az", "Julfa / Jugha"),
    ("kapan", "Kapan / Qafan"),
    ("yerevan", "Yerevan / İrəvan"),
    ("meghri", "Meghri"),        # Meğri is a spelling of the same name, not a second name
    ("ijevan", "Ijevan"),
    ("baku", "Baku"),
    ("tbilisi", "Tbilisi"),      # outside the two countries: English name only
    ("kars", "Kars"),
    ("tehran", "Tehran"),
])
def test_labels_follow_the_convention(place_id, label):
    assert both_names(_places().loc[place_id]) == label


def test_every_label_starts_with_the_name_of_the_country_where_the_place_lies():
    for place_id, row in _places().iterrows():
        label = both_names(row)
        first = label.split(" / ")[0]
        if row["country_iso2"] == "AM":
            assert first == row["name_armenian_usage"], place_id
        elif row["country_iso2"] == "AZ":
            assert row["name_en"].startswith(first), place_id
        else:
            assert "/" not in label, f"{place_id}: a place outside Armenia and Azerbaijan gets one name"


def _texts(fig) -> list[str]:
    found = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        found += [t.get_text() for t in ax.texts]
    return found


def test_the_region_map_draws_exactly_the_both_names_labels():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course.lessons.maps import region_map

    places = _places()
    fig = region_map(list(places.index))
    try:
        labels = set(_texts(fig)) - {t for t in _texts(fig) if "Natural Earth" in t}
        assert labels == {both_names(row) for _, row in places.iterrows()}
    finally:
        plt.close(fig)


def _wrong_forms() -> dict[str, str]:
    """Each form that breaks the convention -> the form the course uses."""
    wrong = {}
    for _, row in _places().iterrows():
        label = both_names(row)
        if " / " in label:
            first, other = label.split(" / ")
            wrong[f"{other} / {first}"] = label
            wrong[f"{other}/{first}"] = label
        elif row["country_iso2"] not in ("AM", "AZ"):
            for key in ("name_armenian_usage", "name_azerbaijani_usage"):
                other = row[key]
                if isinstance(other, str) and other != label:
                    wrong[f"{label} / {other}"] = label
    return wrong


def test_the_other_maps_use_the_same_labels():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course.lessons.borders import village_map
    from course.lessons.geo import meghri_map

    wrong = _wrong_forms()
    for make in (village_map, meghri_map):
        fig = make()
        try:
            for text in _texts(fig):
                for bad, good in wrong.items():
                    assert bad not in text, f"{make.__name__}: {bad!r} should be {good!r}"
        finally:
            plt.close(fig)


def _course_text_files():
    for pattern in ("notebooks/*.ipynb", "exercises/*/*.ipynb", "exercises/*.md", "course/banks/*.yaml",
                    "course/tasks/*.yaml", "README.md", "seeds/*.yaml", "course/data/*.csv"):
        yield from sorted(ROOT.glob(pattern))


def test_text_uses_the_same_order_as_the_maps():
    wrong = _wrong_forms()
    problems = []
    for path in _course_text_files():
        raw = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            raw = "\n".join("".join(c.get("source", "")) for c in json.loads(raw)["cells"])
        for bad, good in wrong.items():
            if re.search(rf"(?<![\w/]){re.escape(bad)}(?![\w])", raw):
                problems.append(f"{path.relative_to(ROOT)}: {bad!r} -> {good!r}")
    assert not problems, "\n".join(problems)
