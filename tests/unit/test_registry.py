"""The registry refuses to exist with a slot left empty, and names the slot; before start-up,
reading it fails loudly instead of a feature quietly doing nothing."""

from __future__ import annotations

import dataclasses

import pytest

from loyalty import registry
from loyalty.registry import Registry, WiringMissing
from loyalty.wiring import build


def slots() -> dict:
    built = build()
    return {field.name: getattr(built, field.name) for field in dataclasses.fields(Registry)}


def test_the_built_registry_fills_every_slot():
    built = build()
    for slot in dataclasses.fields(Registry):
        value = getattr(built, slot.name)
        assert value, slot.name


@pytest.mark.parametrize("slot", [field.name for field in dataclasses.fields(Registry)])
def test_a_missing_slot_fails_at_start_naming_it(slot):
    filled = slots()
    filled[slot] = () if isinstance(filled[slot], tuple) else None
    with pytest.raises(WiringMissing, match=rf"registry slots left empty: {slot} "):
        Registry(**filled)


def test_a_hook_that_is_not_callable_counts_as_missing():
    filled = slots()
    filled["on_erased"] = (*filled["on_erased"], "care.erasure.forget_member")
    with pytest.raises(WiringMissing, match="on_erased"):
        Registry(**filled)


def test_reading_before_anything_is_installed_fails_loudly(monkeypatch):
    monkeypatch.setattr(registry, "_installed", [])
    with pytest.raises(WiringMissing, match="no registry installed"):
        registry.current()


def test_install_takes_only_a_registry(monkeypatch):
    monkeypatch.setattr(registry, "_installed", [])
    with pytest.raises(WiringMissing, match="expected a loyalty.registry.Registry"):
        registry.install({"on_enrolled": ()})  # type: ignore[arg-type]
    built = build()
    registry.install(built)
    assert registry.current() is built
