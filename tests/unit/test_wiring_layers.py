"""What replaced the hidden wiring stays where it belongs: order facts sit below their readers and
import only core, and the registry knows no feature (only loyalty.wiring fills it)."""

from __future__ import annotations

from tests.unit.test_import_graph import import_graph

READERS = {"tiers", "referrals", "care", "insights", "campaigns"}


def test_purchases_imports_nothing_but_core():
    assert set(import_graph()["purchases"]) == {"base"}


def test_the_features_that_read_orders_import_purchases_and_not_orders():
    graph = import_graph()
    for reader in READERS:
        assert "purchases" in graph[reader], reader
        assert "orders" not in graph[reader], f"{reader} -> orders: {graph[reader].get('orders')}"


def test_the_registry_imports_no_feature():
    assert set(import_graph()["registry"]) <= {"base"}


def test_only_the_app_and_the_wiring_fill_the_registry():
    fillers = {node for node, targets in import_graph().items() if "wiring" in targets}
    assert fillers <= {"__init__", "cli"}, fillers
