"""Tests for analytics.charts (accessible inline SVG charts)."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from analytics.charts import (
    DIVERGING_5,
    SEQUENTIAL_5,
    Box,
    DistributionRow,
    GapItem,
    MapGroup,
    MaterialityPoint,
    RadarAxis,
    RadarSeries,
    contrast_ratio,
    distribution_bars,
    format_fr,
    gap_bars,
    layout_materiality_matrix,
    layout_radar,
    layout_stakeholder_map,
    materiality_matrix,
    radar_chart,
    stakeholder_map,
    text_width,
)

NS = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert(\"x\")</script> & 'quotes'"
NNBSP = "\u202f"


# --------------------------------------------------------------------------- helpers


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def classes(el: ET.Element) -> set[str]:
    return set((el.get("class") or "").split())


def find_class(root: ET.Element, cls: str, tag: str = "*") -> list[ET.Element]:
    return [el for el in root.iter(f"{NS}{tag}" if tag != "*" else tag) if cls in classes(el)]


def all_text(root: ET.Element) -> str:
    """Every piece of human-readable text: text nodes (incl. title/desc)."""
    return "\n".join("".join(el.itertext()) for el in root.iter() if el.text)


def view_box(root: ET.Element) -> Box:
    x, y, w, h = (float(v) for v in root.get("viewBox").split())
    return Box(x, y, w, h)


def text_box(el: ET.Element) -> Box:
    """Estimated box of a <text> element (same estimator as the module)."""
    size = float(el.get("font-size"))
    s = "".join(el.itertext())
    w = text_width(s, size, el.get("font-weight") == "bold")
    x = float(el.get("x"))
    anchor = el.get("text-anchor", "start")
    x0 = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
    y = float(el.get("y"))
    return Box(x0, y - size * 0.8, w, size)


# --------------------------------------------------------------------------- sample data

AXES = [
    RadarAxis("gov", "Gouvernance démocratique"),
    RadarAxis("emp", "Qualité de l'emploi et conditions de travail"),
    RadarAxis("env", "Transition écologique et sobriété"),
    RadarAxis("ter", "Ancrage territorial"),
    RadarAxis("eq", "Égalité femmes-hommes et diversité"),
    RadarAxis("lu", "Lucrativité limitée"),
    RadarAxis("coop", "Coopération et partenariats"),
    RadarAxis("usr", "Utilité sociale et implication des usagers"),
]
SERIES = [
    RadarSeries("Auto-diagnostic", {"gov": 3.4, "emp": 2.0, "env": 4.1, "ter": 3.9, "eq": 2.2,
                                    "lu": 4.6, "coop": 3.0, "usr": 3.5}),
    RadarSeries("Parties prenantes", {"gov": None, "emp": 3.1, "env": 3.3, "ter": 4.4, "eq": 2.9,
                                      "lu": 4.0, "coop": 2.5, "usr": 3.7}, dashed=True),
]


def sample_charts() -> dict[str, str]:
    return {
        "radar": radar_chart(AXES, SERIES, title="Radar", desc="Thèmes", min_responses=5),
        "map": stakeholder_map(
            [MapGroup("sal", "Salariés", 4.2, 4.5, 25), MapGroup("ben", "Bénévoles", 2.1, 4.4, 40),
             MapGroup("fin", "Financeurs", 4.8, 2.0, 3), MapGroup("x", "Riverains", None, 2.0, 3)],
            title="Carte", desc="Parties prenantes", min_responses=5),
        "gap": gap_bars(
            [GapItem("a", "Assemblée générale", 3.2, 2.1, "Gouvernance"),
             GapItem("b", "Transparence", 2.5, 3.6, "Gouvernance"),
             GapItem("c", "Formation", 2.0, None, "Emploi")],
            title="Écarts", desc="Écarts", min_responses=5),
        "materiality": materiality_matrix(
            [MaterialityPoint("a", "Gouvernance", 4.5, 4.2, 2.8),
             MaterialityPoint("b", "Achats", 2.0, 3.5, None),
             MaterialityPoint("c", "Mixité", 3.0, None, 3.0)],
            title="Matérialité", desc="Matrice", min_responses=5),
        "distribution": distribution_bars(
            [DistributionRow("a", "Gouvernance", {1: 2, 2: 5, 3: 9, 4: 12, 5: 4}, 3),
             DistributionRow("b", "Transparence", None, 1)],
            title="Répartition", desc="Réponses", min_responses=5),
    }


CHARTS = sample_charts()


# --------------------------------------------------------------------------- format_fr


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (3.4, {}, "3,4"),
        (3, {}, "3,0"),
        (2.25, {}, "2,3"),  # half-up, not banker's rounding
        (3.77, {"digits": 2}, "3,77"),
        (1234567.891, {"digits": 2}, f"1{NNBSP}234{NNBSP}567,89"),
        (1234, {"digits": 0}, f"1{NNBSP}234"),
        (-1.25, {}, "\u22121,3"),
        (0.6, {"signed": True}, "+0,6"),
        (-0.04, {"signed": True}, "0,0"),
        (0.0, {"signed": True}, "0,0"),
    ],
)
def test_format_fr(value, kwargs, expected):
    assert format_fr(value, **kwargs) == expected


# --------------------------------------------------------------------------- common properties


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_chart_is_accessible_self_contained_svg(name):
    svg = CHARTS[name]
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("width") == "100%" and root.get("height") is None
    vb = view_box(root)
    assert vb.w == 640 and vb.h > 100
    title, desc = root[0], root[1]
    assert title.tag == f"{NS}title" and desc.tag == f"{NS}desc"
    assert title.text and desc.text
    assert root.get("aria-labelledby").split() == [title.get("id"), desc.get("id")]
    assert "sans-serif" in root.get("font-family")
    lowered = svg.lower()
    for forbidden in ("<script", "javascript:", "<style", "<image", "<foreignobject", "@import"):
        assert forbidden not in lowered
    assert re.findall(r"https?://[^\"]+", svg) == ["http://www.w3.org/2000/svg"]
    # every internal reference points to an element of the same SVG
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    for ref in re.findall(r"url\(#([^)]+)\)", svg):
        assert ref in ids


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_numbers_use_french_decimal_comma(name):
    text = all_text(parse(CHARTS[name]))
    if name != "distribution":  # integer percentages only
        assert re.search(r"\d,\d", text), "expected at least one French decimal"
    assert not re.search(r"\d\.\d", text), "English decimal point in visible/AT text"


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_text_contrast(name):
    root = parse(CHARTS[name])
    texts = list(root.iter(f"{NS}text"))
    assert texts
    for el in texts:
        if "on-fill" in classes(el):
            continue  # checked against the fill palette below
        assert contrast_ratio(el.get("fill"), "#FFFFFF") >= 4.5, el.get("fill")


def test_text_on_fills_contrast():
    from analytics.charts import _text_on

    for colour in (*SEQUENTIAL_5, *DIVERGING_5):
        assert contrast_ratio(colour, _text_on(colour)) >= 4.5, colour


def test_charts_are_deterministic_and_ids_distinct():
    assert sample_charts() == CHARTS
    ids = [parse(svg)[0].get("id") for svg in CHARTS.values()]
    assert len(set(ids)) == len(ids)
    svg = gap_bars([GapItem("a", "A", 1, 2)], title="t", id_prefix="my chart")
    assert 'id="my-chart-title"' in svg


# --------------------------------------------------------------------------- escaping


def evil_charts() -> dict[str, str]:
    return {
        "radar": radar_chart([RadarAxis("a", EVIL), RadarAxis("b", "B"), RadarAxis("c", "C")],
                             [RadarSeries(EVIL, {"a": 2, "b": 3, "c": None})], title=EVIL, desc=EVIL),
        "map": stakeholder_map([MapGroup("a", EVIL, 3, 3, 4), MapGroup("b", EVIL, None, 3, 4)],
                               title=EVIL, desc=EVIL),
        "gap": gap_bars([GapItem("a", EVIL, 3, 2, EVIL), GapItem("b", EVIL, 3, None, EVIL)],
                        title=EVIL, desc=EVIL),
        "materiality": materiality_matrix([MaterialityPoint("a", EVIL, 3, 3, 3),
                                           MaterialityPoint("b", EVIL, 3, None, 3)],
                                          title=EVIL, desc=EVIL),
        "distribution": distribution_bars([DistributionRow("a", EVIL, {1: 3, 5: 2}, 1),
                                           DistributionRow("b", EVIL, None, None)],
                                          title=EVIL, desc=EVIL, level_labels={1: EVIL}),
    }


@pytest.mark.parametrize("name", ["radar", "map", "gap", "materiality", "distribution"])
def test_user_text_is_escaped(name):
    svg = evil_charts()[name]
    assert "<script" not in svg.lower()
    root = parse(svg)  # well-formed despite quotes and ampersands
    assert root[0].text == EVIL
    assert "<script>" in all_text(root)  # round-trips as text, not markup
    assert not [el for el in root.iter() if "script" in el.tag.lower()]


def test_control_characters_are_removed():
    svg = gap_bars([GapItem("a", "Bad\x00\x07 label\x1b", 3, 2)], title="T\x0b", desc="D\x01")
    root = parse(svg)
    assert "Bad label" in all_text(root)


def test_dict_inputs_are_accepted():
    svg = gap_bars([{"key": "a", "label": "Libellé", "self_value": 3, "stakeholder_value": 4.5,
                     "category": "", "extra": "ignored"}], title="t")
    assert "+1,5" in all_text(parse(svg))


# --------------------------------------------------------------------------- suppression (None)

HIDDEN = ("3,77", "3.77", "3,8", "3.8")


def assert_no_hidden(svg: str, extra: tuple[str, ...] = ()):
    for s in HIDDEN + extra:
        assert s not in svg, f"suppressed value leaked as {s!r}"


def test_gap_bars_masked_item_leaves_no_number():
    svg = gap_bars(
        [GapItem("ok", "Assemblée générale", 2.0, 2.5, "Gouvernance"),
         GapItem("hid", "Formation des salariés", 3.77, None, "Emploi"),
         GapItem("hid2", "Dialogue social", None, 3.77, "Emploi")],
        title="Écarts", desc="Écarts", min_responses=5,
    )
    assert_no_hidden(svg)
    root = parse(svg)
    rows = find_class(root, "gap-row", "g")
    assert len(rows) == 3
    for row in rows[1:]:
        assert "masqué (moins de 5 réponses)" in all_text(row)
        assert not find_class(row, "bar") and not find_class(row, "value")
    assert "+0,5" in all_text(rows[0])
    assert len(find_class(root, "bar")) == 1


def test_gap_bars_direction_and_sign():
    root = parse(gap_bars([GapItem("a", "A", 3.2, 2.1), GapItem("b", "B", 2.5, 3.6),
                           GapItem("c", "C", 4.0, 4.02)], title="t"))
    rows = find_class(root, "gap-row", "g")
    neg = find_class(rows[0], "neg")[0]
    pos = find_class(rows[1], "pos")[0]
    zero_x = float(pos.get("x"))
    assert float(neg.get("x")) + float(neg.get("width")) == pytest.approx(zero_x)
    assert float(neg.get("width")) == pytest.approx(float(pos.get("width")), abs=0.2)
    assert [t.text for t in find_class(root, "value")] == ["\u22121,1", "+1,1", "0,0"]
    assert find_class(rows[2], "zero")


def test_materiality_masked_point_leaves_no_number():
    svg = materiality_matrix(
        [MaterialityPoint("a", "Gouvernance", 4.5, 4.2, 2.2),
         MaterialityPoint("hid", "Mixité", 3.77, None, 3.77),
         MaterialityPoint("lvl", "Achats", 2.0, 2.5, None)],
        title="Matérialité", desc="Matrice", min_responses=5,
    )
    assert_no_hidden(svg)
    root = parse(svg)
    points = find_class(root, "point", "g")
    assert len(points) == 2
    assert len(find_class(root, "level")) == 1  # "Achats" has no level number
    assert "niveau perçu masqué" in all_text(points[1])
    note = " ".join(t.text for t in find_class(root, "masked-note"))
    assert "Mixité" in note and "masqué (moins de 5 réponses)" in note


def test_distribution_masked_row_leaves_no_number():
    svg = distribution_bars(
        [DistributionRow("a", "Gouvernance", {1: 2, 2: 5, 3: 9, 4: 12, 5: 4}, 3),
         DistributionRow("hid", "Transparence", None, 377)],
        title="Répartition", desc="Réponses", min_responses=5,
    )
    root = parse(svg)
    assert "377" not in all_text(root)
    rows = find_class(root, "dist-row", "g")
    assert "masqué (moins de 5 réponses)" in all_text(rows[1])
    assert not find_class(rows[1], "seg") and not find_class(rows[1], "nsp")
    row_text = all_text(rows[1]).replace("moins de 5 réponses", "")
    assert not re.search(r"\d", row_text)


def test_stakeholder_map_unpositioned_group_leaves_no_number():
    svg = stakeholder_map(
        [MapGroup("a", "Salariés", 4.0, 4.5, 12), MapGroup("hid", "Riverains", None, 3.77, 377)],
        title="Carte", desc="Parties prenantes", min_responses=5,
    )
    assert_no_hidden(svg)
    root = parse(svg)
    assert "377" not in all_text(root)
    assert len(find_class(root, "group", "g")) == 1
    note = " ".join(t.text for t in find_class(root, "masked-note"))
    assert "Riverains" in note and "masqué (moins de 5 réponses)" in note


def test_radar_masked_value_is_not_drawn():
    svg = radar_chart(AXES[:5], SERIES, title="Radar", desc="Thèmes", min_responses=5)
    root = parse(svg)
    markers_s1 = [el for el in root.iter() if {"marker", "s1"} <= classes(el)]
    markers_s0 = [el for el in root.iter() if {"marker", "s0"} <= classes(el)]
    assert len(markers_s0) == 5 and len(markers_s1) == 4
    assert not [el for el in markers_s1 if "a0" in classes(el)]  # "gov" is axis 0
    masked = [t.text for t in find_class(root, "masked")]
    assert masked == ["Parties prenantes : masqué"]
    assert "moins de 5 réponses" in all_text(root)
    desc = root[1].text
    assert "Parties prenantes : Gouvernance démocratique masqué" in desc
    assert "3,4" in desc  # Auto-diagnostic, gov
    # broken polygon: the series with a gap is an open path, the other a closed polygon
    assert root.find(f".//{NS}path[@class='series s1']") is not None
    assert root.find(f".//{NS}polygon[@class='series s0']") is not None
    # markers have different shapes per series
    assert {el.tag for el in markers_s0} == {f"{NS}circle"}
    assert {el.tag for el in markers_s1} == {f"{NS}rect"}


# --------------------------------------------------------------------------- geometry


def crowded_groups() -> list[MapGroup]:
    return [
        MapGroup("g1", "Salariés permanents", 4.0, 4.0, 30),
        MapGroup("g2", "Conseil d'administration", 4.0, 4.0, 8),
        MapGroup("g3", "Bénévoles réguliers", 4.0, 4.0, 45),
        MapGroup("g4", "Usagers et bénéficiaires", 4.1, 4.05, 60),
        MapGroup("g5", "Financeurs publics", 4.05, 4.1, 3),
        MapGroup("g6", "Collectivités territoriales", 3.9, 3.95, 5),
        MapGroup("g7", "Fournisseurs", 2.0, 2.0, 4),
        MapGroup("g8", "Partenaires associatifs", 2.0, 2.0, 12),
    ]


def assert_labels_ok(lay):
    boxes = [lab.box for lab in lay.labels]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.intersects(b), (a, b)
    for lab in lay.labels:
        assert lab.box.inside(lay.view_box) and lab.box.inside(lay.plot)
        assert not lab.overlapping
        for p in lay.points:  # no label hides a point's centre
            assert not (lab.box.x < p.cx < lab.box.x2 and lab.box.y < p.cy < lab.box.y2)
    for p in lay.points:
        assert lay.plot.x <= p.cx - p.r and p.cx + p.r <= lay.plot.x2
        assert lay.plot.y <= p.cy - p.r and p.cy + p.r <= lay.plot.y2


def test_stakeholder_map_crowded_labels_do_not_overlap():
    lay = layout_stakeholder_map(crowded_groups())
    assert len(lay.labels) == 8
    assert_labels_ok(lay)
    # coincident groups are separated
    for a, b in itertools.combinations(lay.points, 2):
        assert (a.cx - b.cx) ** 2 + (a.cy - b.cy) ** 2 >= 6 ** 2
    assert any(p.jittered for p in lay.points)
    assert any(lab.leader for lab in lay.labels)  # some labels had to move away
    # the SVG draws exactly these boxes
    root = parse(stakeholder_map(crowded_groups(), title="Carte"))
    drawn = [Box(*(float(r.get(k)) for k in ("x", "y", "width", "height")))
             for r in find_class(root, "label-bg", "rect")]
    assert len(drawn) == 8
    for d, lab in zip(drawn, lay.labels):
        assert d.x == pytest.approx(lab.box.x, abs=0.06) and d.w == pytest.approx(lab.box.w, abs=0.06)
    for a, b in itertools.combinations(drawn, 2):
        assert not a.intersects(b)
    assert len(find_class(root, "leader", "line")) == sum(1 for lab in lay.labels if lab.leader)
    # quadrant captions are avoided too
    for lab in lay.labels:
        for fb in lay.fixed_boxes:
            assert not lab.box.intersects(fb)


def test_stakeholder_map_very_crowded_same_point():
    groups = [MapGroup(f"k{i}", f"Groupe numéro {i}", 3.0, 3.0, i + 1) for i in range(16)]
    assert_labels_ok(layout_stakeholder_map(groups))


def test_stakeholder_map_quadrants_and_area():
    root = parse(stakeholder_map([MapGroup("a", "Petit", 4.5, 4.5, 1),
                                  MapGroup("b", "Grand", 1.5, 1.5, 100)], title="t"))
    assert [t.text for t in find_class(root, "quadrant-label")] == [
        "Satisfaire", "Gérer de près", "Surveiller", "Informer"]
    lay = layout_stakeholder_map([MapGroup("a", "Petit", 4.5, 4.5, 1),
                                  MapGroup("b", "Grand", 1.5, 1.5, 100)])
    small, big = lay.points
    assert small.r >= 6 and big.r > small.r
    assert small.cx > big.cx and small.cy < big.cy  # high importance right, high influence up
    desc = root[1].text
    assert "Petit" in desc and "« Gérer de près »" in desc and "« Surveiller »" in desc


def test_materiality_labels_do_not_overlap_and_markers_separate():
    pts = [MaterialityPoint(f"p{i}", f"Enjeu de matérialité {i}", 4.0 + (i % 3) * 0.05, 4.0, i % 5 + 1)
           for i in range(8)]
    lay = layout_materiality_matrix(pts)
    assert_labels_ok(lay)
    for a, b in itertools.combinations(lay.points, 2):  # level numbers stay readable
        assert (a.cx - b.cx) ** 2 + (a.cy - b.cy) ** 2 >= (a.r + b.r) ** 2


@pytest.mark.parametrize("n", [3, 5, 8])
def test_radar_labels_inside_viewbox(n):
    long_axes = [RadarAxis(f"k{i}", f"Thème très important numéro {i} avec un libellé long")
                 for i in range(n)]
    series = [RadarSeries("Auto-diagnostic", {f"k{i}": 1 + i % 5 for i in range(n)}),
              RadarSeries("Parties prenantes", {f"k{i}": None if i == 1 else 5 - i % 5
                                                for i in range(n)}, dashed=True)]
    lay = layout_radar(long_axes, series)
    for lab in lay.labels:
        assert lab.box.inside(lay.view_box)
        assert 1 <= len(lab.lines) <= 3
    for a, b in itertools.combinations(lay.labels, 2):
        assert not a.box.intersects(b.box)
    assert lay.radius >= 80
    root = parse(radar_chart(long_axes, series, title="Radar"))
    vb = view_box(root)
    texts = list(root.iter(f"{NS}text"))
    axis_texts = find_class(root, "axis-label", "text")
    assert len(axis_texts) >= n
    for t in texts:
        assert text_box(t).inside(vb), ("".join(t.itertext()), text_box(t), vb)


def test_radar_axis_count_is_validated():
    with pytest.raises(ValueError):
        radar_chart(AXES[:2], SERIES, title="t")
    with pytest.raises(ValueError):
        radar_chart(AXES + [RadarAxis("x", "X")], SERIES, title="t")


def test_radar_grid_rings_per_integer():
    root = parse(radar_chart(AXES[:4], SERIES[:1], title="t", scale_min=1, scale_max=5))
    assert [t.text for t in find_class(root, "ring-label")] == ["1", "2", "3", "4", "5"]


@pytest.mark.parametrize("name", ["radar", "gap", "distribution"])
def test_all_texts_inside_viewbox(name):
    root = parse(CHARTS[name])
    vb = view_box(root)
    for t in root.iter(f"{NS}text"):
        if t.get("transform"):
            continue
        assert text_box(t).inside(vb), "".join(t.itertext())


# --------------------------------------------------------------------------- distribution


def test_distribution_percentages():
    root = parse(distribution_bars(
        [DistributionRow("a", "A", {1: 1, 2: 1, 3: 8, 4: 10, 5: 0}, 2),
         DistributionRow("b", "B", {1: 1, 2: 1, 3: 1}, None)],
        title="t"))
    rows = find_class(root, "dist-row", "g")
    assert [t.text for t in find_class(rows[0], "pct")] == [f"40{NNBSP}%", f"50{NNBSP}%"]
    assert len(find_class(rows[0], "seg")) == 4  # zero-count level not drawn
    widths = [float(r.get("width")) for r in find_class(rows[0], "seg")]
    assert sum(widths) == pytest.approx(300, abs=0.3)
    assert [t.text for t in find_class(rows[0], "nsp")] == ["NSP : 2"]
    # largest-remainder rounding: 33 + 33 + 34 = 100
    assert sorted(t.text for t in find_class(rows[1], "pct")) == [f"33{NNBSP}%", f"33{NNBSP}%",
                                                                  f"34{NNBSP}%"]


def test_distribution_rejects_unknown_levels():
    with pytest.raises(ValueError):
        distribution_bars([DistributionRow("a", "A", {0: 3, 1: 2})], title="t")
