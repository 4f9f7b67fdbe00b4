"""The subgraph step's picker: offers saved graphs by name and version, stores the pinned id form,
and shows a saved reference with the graph's current name."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.graphs.test_saved_subgraphs import caller, child

from .conftest import Browser
from .test_canvas import create_graph

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def stored_subgraph(b: Browser) -> dict:
    return b.page.evaluate("window.__patchbay.graph.getState().spec()")["nodes"][1]["config"]["subgraph"]


def test_the_picker_offers_graphs_by_name_and_stores_the_id(browser: Browser) -> None:
    b = browser
    b.sign_in()
    shouter = create_graph(b, child("shouter"))
    b.api("PUT", f"/api/graphs/{shouter}/", {"spec": child("shouter", "{{ input.text }}!")})  # a v2
    other = create_graph(b, child("whisperer", "{{ input.text | lower }}"))
    calling = create_graph(b, caller("caller", "shouter@1"))

    # Renamed after the caller pinned it: the canvas shows the current name.
    b.api("PUT", f"/api/graphs/{shouter}/", {"spec": child("yeller", "{{ input.text }}!")})
    b.goto(f"/graphs/{calling}")
    b.page.get_by_test_id("node-call").wait_for()
    expect(b.page.get_by_test_id("node-call")).to_contain_text("runs yeller · v1")
    b.page.get_by_test_id("node-call").click()
    picker = b.page.get_by_test_id("cfg-call-subgraph.graph")
    expect(picker).to_have_value(str(shouter))
    version = b.page.get_by_test_id("cfg-call-subgraph.graph-version")
    assert version.input_value() == "1"
    assert "yeller · v3 (latest)" in version.inner_text()
    b.screenshot("subgraph-picker-pinned")

    # Picking another graph by name stores its id at its latest version; then an older version of the first.
    picker.select_option(label="whisperer (latest v1)")
    assert stored_subgraph(b) == {"graph": f"#{other}@1"}
    picker.select_option(str(shouter))
    assert stored_subgraph(b) == {"graph": f"#{shouter}@3"}
    b.page.get_by_test_id("cfg-call-subgraph.graph-version").select_option("2")
    assert stored_subgraph(b) == {"graph": f"#{shouter}@2"}
    expect(b.page.get_by_test_id("node-call")).to_contain_text("runs yeller · v2")
    b.screenshot("subgraph-picker-picked")
    assert not b.errors
