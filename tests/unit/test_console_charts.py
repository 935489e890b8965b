"""The console's SVG charts: escaped labels, numeric attributes only, bars in proportion."""

from __future__ import annotations

import re
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from loyalty.console.charts import Bar, bars, columns

_SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))


def rects(markup) -> list[ElementTree.Element]:
    return parse(markup).findall(f"{_SVG}rect")


@pytest.mark.parametrize("draw", [bars, columns])
def test_labels_and_titles_are_escaped_and_nothing_else_is_text(draw):
    markup = draw([Bar('<script>alert("x")</script>', 3), Bar("a & b", 1, shown='"9"')], title='<b>"t"</b>')
    assert "<script>" not in markup and "<b>" not in markup
    root = parse(markup)  # well-formed XML
    assert root.get("aria-label") == '<b>"t"</b>' and root.get("role") == "img"
    texts = [t.text for t in root.iter(f"{_SVG}text")]
    assert '<script>alert("x")</script>' in texts and "a & b" in texts and '"9"' in texts
    assert "style" not in markup and "on" not in {name[:2] for el in root.iter() for name in el.attrib}
    for element in root.iter():
        for name, value in element.attrib.items():
            if name in ("x", "y", "x1", "x2", "y1", "y2", "width", "height"):
                assert re.fullmatch(r"-?\d+(\.\d+)?", value), (name, value)


def test_bar_lengths_are_in_proportion_to_the_values():
    drawn = rects(bars([Bar("a", 10), Bar("b", 5), Bar("c", 0), Bar("d", Decimal("2.5"))], title="t", width=540))
    widths = [float(r.get("width")) for r in drawn]
    assert widths == [300, 150, 0, 75]  # 540 - 150 label - 90 figure = 300 for the largest


def test_columns_grow_up_from_one_baseline():
    drawn = rects(columns([Bar("a", 4), Bar("b", 1)], title="t", height=220))
    heights = [float(r.get("height")) for r in drawn]
    assert heights == [176, 44]
    assert {float(r.get("y")) + float(r.get("height")) for r in drawn} == {196}


def test_all_zero_or_empty_draws_no_bar_and_no_division_by_zero():
    assert [float(r.get("width")) for r in rects(bars([Bar("a", 0), Bar("b", 0)], title="t"))] == [0, 0]
    assert rects(bars([], title="t")) == [] and rects(columns([], title="t")) == []


def test_negative_values_draw_nothing_and_tones_are_classes_from_a_fixed_set():
    drawn = rects(bars([Bar("a", -5), Bar("b", 5, tone="bad")], title="t"))
    assert float(drawn[0].get("width")) == 0 and drawn[1].get("class") == "bar bad"
    with pytest.raises(ValueError):
        Bar("x", 1, tone='x" onload="alert(1)')


def test_the_figure_shown_defaults_to_the_value():
    texts = [t.text for t in parse(bars([Bar("a", 7), Bar("b", 3, shown="¥3.00")], title="t")).iter(f"{_SVG}text")]
    assert "7" in texts and "¥3.00" in texts
