"""The yardstick for the POS lookup: bare Flask answering the same JSON from memory, no auth,
no database, served by the same gunicorn settings in the same run."""

from flask import Flask, jsonify

app = Flask(__name__)

BODY = {
    "member_id": "mbr_bench0000012345",
    "member_number": "100000123453",
    "display_name": "Bench Member 12345",
    "status": "active",
    "tier": "silver",
    "discount_percent": "3",
    "available_points": 2445,
    "points_value": "24.45",
    "currency": "CNY",
    "flags": {"birthday_this_month": False, "reward_ready": False, "can_redeem": True},
}


@app.get("/v1/pos/members/<identifier>")
def pos_member(identifier):
    return jsonify(BODY)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
