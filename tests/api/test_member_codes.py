"""A member's two referral codes under names nobody confuses: `referred_by_code` (the code they came
with, normalised) and `share_code` (their own, to share); `referral_code` is a deprecated alias of the
first. Also: a POS key enrols (a card handed out at the till) and does nothing else with members."""

from __future__ import annotations

from tests.factories import create_member, member_payload


def _own_code(client, auth, member_id: str) -> str:
    return client.get(f"/v1/members/{member_id}/referral", headers=auth("staff")).get_json()["code"]


def test_a_member_answers_the_code_they_came_with_and_their_own(client, auth):
    referrer = create_member(client, auth)
    code = _own_code(client, auth, referrer["id"])
    assert referrer["share_code"] == code and referrer["referred_by_code"] is None and referrer["referral_code"] is None

    typed = f" {code[:4].lower()} - {code[4:].lower()} "
    friend = client.post("/v1/members", json=member_payload(referral_code=typed), headers=auth("storefront")).get_json()
    assert friend["referred_by_code"] == code and friend["referral_code"] == code
    assert friend["share_code"] == _own_code(client, auth, friend["id"]) != code
    for answer in (
        client.get(f"/v1/members/{friend['id']}", headers=auth("staff")).get_json(),
        client.get(f"/v1/members?external_id={friend['external_id']}", headers=auth()).get_json()["data"][0],
        client.patch(f"/v1/members/{friend['id']}", json={"city": "Hangzhou"}, headers=auth()).get_json(),
    ):
        assert (answer["referred_by_code"], answer["share_code"]) == (code, friend["share_code"])


def test_an_unknown_code_is_still_answered_normalised(client, auth):
    member = client.post("/v1/members", json=member_payload(referral_code="no-pe 1"), headers=auth()).get_json()
    assert member["referral"]["status"] == "rejected" and member["referred_by_code"] == "NOPE1"


def test_members_enrolled_without_a_code_still_have_one_to_share(client, auth):
    members = [create_member(client, auth) for _ in range(3)]
    page = client.get("/v1/members?tag=tea%20lover", headers=auth("staff")).get_json()["data"]
    assert {m["id"]: m["share_code"] for m in page} == {m["id"]: m["share_code"] for m in members}
    assert all(m["share_code"] and m["referred_by_code"] is None for m in page)


def test_an_erased_member_has_no_code_to_share(client, auth):
    member = create_member(client, auth)
    assert client.delete(f"/v1/members/{member['id']}", headers=auth("staff")).status_code == 204
    assert client.get(f"/v1/members/{member['id']}", headers=auth("staff")).get_json()["share_code"] is None


def test_a_merge_answers_the_survivor_s_codes(client, auth):
    survivor, other = create_member(client, auth), create_member(client, auth)
    merged = client.post(
        f"/v1/members/{survivor['id']}/merge", json={"member_id": other["id"]}, headers=auth("staff")
    ).get_json()
    assert merged["share_code"] == survivor["share_code"]


def test_the_spec_documents_both_codes_and_the_deprecated_alias(client):
    spec = client.get("/openapi.json").get_json()
    member = next(schema for name, schema in spec["components"]["schemas"].items() if name == "Member")
    properties = member["properties"]
    assert "share_code" in properties and "referred_by_code" in properties
    assert properties["referral_code"]["deprecated"] is True


def test_a_pos_key_enrols_a_member_at_the_till(client, auth):
    response = client.post("/v1/members", json={}, headers=auth("pos"))  # a card carrying only its number
    assert response.status_code == 201, response.get_json()
    card = response.get_json()
    assert len(card["member_number"]) == 12 and card["share_code"]
    payload, till = member_payload(), auth("pos", **{"Idempotency-Key": "till-1"})
    first = client.post("/v1/members", json=payload, headers=till)
    assert first.status_code == 201 and first.get_json()["name"] == payload["name"]
    replay = client.post("/v1/members", json=payload, headers=till)  # a till retrying: the same member
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_json()["id"] == first.get_json()["id"]


def test_a_pos_key_does_nothing_else_with_members(client, auth):
    member = create_member(client, auth)
    pos = auth("pos")
    refused = [
        client.get("/v1/members", headers=pos),
        client.get(f"/v1/members?phone={member['phone']}", headers=pos),
        client.get(f"/v1/members/{member['id']}", headers=pos),
        client.patch(f"/v1/members/{member['id']}", json={"city": "Suzhou"}, headers=pos),
        client.delete(f"/v1/members/{member['id']}", headers=pos),
        client.post(f"/v1/members/{member['id']}/merge", json={"member_id": member["id"]}, headers=pos),
        client.get(f"/v1/members/{member['id']}/timeline", headers=pos),
    ]
    for response in refused:
        assert response.status_code == 403 and response.get_json()["code"] == "forbidden", response.request.path
    assert client.get(f"/v1/members/{member['id']}", headers=auth("staff")).get_json()["city"] == member["city"]


def test_a_pos_key_learns_of_a_duplicate_but_not_who_holds_it(client, auth):
    member = create_member(client, auth, external_id="shop-77")
    for probe in ({"email": member["email"]}, {"external_id": "shop-77"}):
        response = client.post("/v1/members", json=probe, headers=auth("pos"))
        body = response.get_json()
        assert response.status_code == 409 and body["code"] == "duplicate_member"
        assert "existing_member_id" not in body and member["id"] not in response.get_data(as_text=True)
    staff = client.post("/v1/members", json={"external_id": "shop-77"}, headers=auth("staff")).get_json()
    assert staff["existing_member_id"] == member["id"]  # staff are told, to merge or correct
