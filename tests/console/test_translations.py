"""Every console string has its Chinese, the compiled catalogs are current, the language follows
Accept-Language and can be switched."""

from __future__ import annotations

from loyalty import create_app  # noqa: F401 - imports every module, so every error class exists
from loyalty.console import catalog
from loyalty.console.labels import known_error_codes
from loyalty.core.errors import registry
from tests.console.conftest import ZH, english_leftovers

# Errors of the HTTP layer in front of the API (keys, JSON bodies, idempotency headers): no console
# form can meet them, so they need no words of the console's.
API_ONLY = {
    "http_error",
    "idempotency_in_flight",
    "idempotency_key_reused",
    "invalid_idempotency_key",
    "length_required",
    "malformed_json",
    "method_not_allowed",
    "not_acceptable",
    "payload_too_large",
    "rate_limited",
    "unauthorized",
    "unsupported_media_type",
}


def test_every_console_string_has_a_chinese_translation():
    gaps = catalog.missing()
    assert not gaps, "untranslated: " + "; ".join(f"{w[0]} {t!r}" for t, w in sorted(gaps.items())[:30])


def test_compiled_catalogs_match_their_sources():
    for path in catalog.po_files():
        mo = path.with_suffix(".mo")
        assert mo.exists() and mo.read_bytes() == catalog.compiled(path), (
            f"{mo} is stale: python -m loyalty.console.catalog compile"
        )


def test_every_business_error_has_words_in_the_console():
    from loyalty import _import_every_module

    _import_every_module()
    assert set(registry()) - API_ONLY <= known_error_codes()


def test_language_follows_accept_language(anonymous):
    english = anonymous.get("/console", headers={"Accept-Language": "en-US,en;q=0.8"}).get_data(as_text=True)
    assert "Sign in" in english and 'lang="en"' in english
    chinese = anonymous.get("/console", headers=ZH).get_data(as_text=True)
    assert "登录" in chinese and 'lang="zh-Hans"' in chinese
    assert english_leftovers(chinese) == []


def test_the_language_can_be_switched_and_stays(console):
    page = console.post(
        "/console/language", data={"lang": "zh_Hans", "next": "/console/members"}, headers={"Accept-Language": "en"}
    )
    assert page.status_code == 303 and page.headers["Location"] == "/console/members"
    chinese = console.text("/console/members", headers={"Accept-Language": "en"})
    assert "会员" in chinese and english_leftovers(chinese, allowed={"test", "staff"}) == []
    console.post("/console/language", data={"lang": "en"})
    assert "Members" in console.text("/console/members", headers=ZH)


def test_an_unknown_language_is_ignored(console):
    console.post("/console/language", data={"lang": "xx"})
    assert "Members" in console.text("/console/members", headers={"Accept-Language": "en"})


def test_one_string_means_one_thing_across_the_catalogs():
    """The areas' catalogs are merged: a string translated two ways would show whichever loaded last."""
    meanings: dict[str, set[str]] = {}
    for path in catalog.po_files():
        for message in catalog.read(path):
            if message.id and message.string:
                meanings.setdefault(str(message.id), set()).add(str(message.string))
    assert {text: found for text, found in meanings.items() if len(found) > 1} == {}


def test_validation_messages_are_translated(app):
    from loyalty.console.labels import message

    with app.test_request_context("/console", headers=ZH):
        assert message("Missing data for required field.") == "必填。"
        assert message("Must be greater than or equal to 1.") == "不能小于 1。"
        assert message("Must be one of: a, b.") == "请选择以下之一：a, b。"
        assert message("A rule of the shop's own") == "A rule of the shop's own"  # not one of marshmallow's
    with app.test_request_context("/console", headers={"Accept-Language": "en"}):
        assert message("Missing data for required field.") == "Missing data for required field."
