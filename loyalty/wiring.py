"""Builds the one registry (loyalty/registry.py) from the features above the ones that call back,
and installs it; called by create_app and the CLI (the scheduler runs under the CLI).

The features are imported inside `build()`: `loyalty/__init__.py` imports this module, so imports
at the top would load every feature whenever anything under `loyalty` is imported (a migration, a
unit test of pure rules).
"""

from __future__ import annotations

from loyalty.registry import Registry, install


def build() -> Registry:
    """Every slot, in one place; the Registry refuses to exist with one left empty."""
    from loyalty.campaigns.results import summary as campaign_results
    from loyalty.campaigns.service import paused, terms
    from loyalty.care import erasure as care_erasure
    from loyalty.care.service import outcomes, timeline_interactions, timeline_touches
    from loyalty.imports import order_staging
    from loyalty.orders.service import move_orders, timeline_orders
    from loyalty.points import erasure as points_erasure
    from loyalty.points.service import grant_signup_bonus, move_points, timeline_entries
    from loyalty.redemptions import erasure as redemptions_erasure
    from loyalty.redemptions.service import cancel_open_holds
    from loyalty.referrals import service as referrals
    from loyalty.tiers import erasure as tiers_erasure
    from loyalty.tiers.grading import merge_tiers
    from loyalty.tiers.history import timeline_changes
    from loyalty.tiers.service import place_new_member

    return Registry(
        on_enrolled=(place_new_member, grant_signup_bonus, referrals.record_signup),
        # Open holds go back to the tombstone's lots before its lots move; the tiers come after the
        # orders, which now qualify the survivor.
        on_merged=(cancel_open_holds, move_points, move_orders, merge_tiers, referrals.on_merged),
        # Erasure reaches every feature's free text about the member, in the erasing transaction.
        on_erased=(
            care_erasure.forget_member,
            points_erasure.forget_member,
            tiers_erasure.forget_member,
            redemptions_erasure.forget_member,
            order_staging.forget_member,
        ),
        timeline_sources=(timeline_changes, timeline_orders, timeline_entries, timeline_touches, timeline_interactions),
        referral_codes=referrals.member_codes,
        referral_funnel=referrals.funnel,
        care_outcomes=outcomes,
        campaign_results=campaign_results,
        campaign_terms=terms,
        paused_campaigns=paused,
    )


def wire() -> None:
    install(build())
