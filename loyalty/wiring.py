"""Connects features through the members' hooks and the tiers' qualifying values; called by
create_app, the CLI and the scheduler."""

from __future__ import annotations


def wire() -> None:
    from loyalty.members import hooks
    from loyalty.orders.service import move_orders
    from loyalty.points.service import grant_signup_bonus, move_points
    from loyalty.redemptions.service import cancel_open_holds
    from loyalty.care import planning as care_planning
    from loyalty.insights.figures import use_order_stats
    from loyalty.orders.qualifying import (first_orders, first_orders_between, order_rhythm,
                                           order_stats_subquery, qualifying_values)
    from loyalty.referrals import service as referrals
    from loyalty.referrals.jobs import use_order_facts
    from loyalty.members import timeline
    from loyalty.tiers.grading import merge_tiers, timeline_changes, use_qualifying_values
    from loyalty.tiers.service import place_new_member

    use_qualifying_values(qualifying_values)
    from loyalty.members.answers import use_referral_codes

    use_referral_codes(referrals.member_codes)
    use_order_facts(first_orders)
    use_order_stats(order_stats_subquery)
    from loyalty.care.service import outcomes
    from loyalty.insights.service import use_sources
    from loyalty.orders.qualifying import top_fifth_share
    from loyalty.referrals.service import funnel

    from loyalty.campaigns.results import summary as campaign_summary, use_conversions
    from loyalty.campaigns.service import paused, terms

    use_sources(pareto=top_fifth_share, referrals=funnel, care=outcomes, campaigns=campaign_summary)
    from loyalty.care.dispatch import use_campaign_terms
    from loyalty.orders.qualifying import converted

    use_conversions(converted)
    use_campaign_terms(terms, paused)
    from loyalty.orders.qualifying import last_orders

    care_planning.use_order_facts(first_orders_between=first_orders_between, order_rhythm=order_rhythm,
                                  last_orders=last_orders)
    from loyalty.care.service import timeline_interactions, timeline_touches
    from loyalty.orders.service import timeline_orders
    from loyalty.points.service import timeline_entries

    for source in (timeline_changes, timeline_orders, timeline_entries, timeline_touches, timeline_interactions):
        if source not in timeline.SOURCES:
            timeline.SOURCES.append(source)

    hooks.register(hooks.on_enrolled, place_new_member)
    hooks.register(hooks.on_enrolled, grant_signup_bonus)
    hooks.register(hooks.on_enrolled, referrals.record_signup)
    # Open holds go back to the tombstone's lots before its lots move.
    hooks.register(hooks.on_merged, cancel_open_holds)
    hooks.register(hooks.on_merged, move_points)
    hooks.register(hooks.on_merged, move_orders)
    hooks.register(hooks.on_merged, merge_tiers)  # after the orders: they now qualify the survivor
    hooks.register(hooks.on_merged, referrals.on_merged)
    from loyalty.care import erasure as care_erasure
    from loyalty.imports import order_staging
    from loyalty.points import erasure as points_erasure
    from loyalty.redemptions import erasure as redemptions_erasure
    from loyalty.tiers import erasure as tiers_erasure

    # Erasure reaches every feature's free text about the member, in the erasing transaction.
    for forget in (care_erasure.forget_member, points_erasure.forget_member, tiers_erasure.forget_member,
                   redemptions_erasure.forget_member, order_staging.forget_member):
        hooks.register(hooks.on_erased, forget)
