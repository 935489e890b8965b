"""The one place where a feature reaches a feature above it: typed slots, filled at start.

Most cross-feature reads need no wiring (facts about orders live in `loyalty.purchases`, below
every reader). What remains runs against the layers: members must enrol, merge and erase through
points, tiers, referrals and care; the timeline shows their rows; a member's answer carries
referral codes; insights summarises referrals, care and campaigns; care dispatch sends campaigns'
touches. Those features sit above the one asking, so the callbacks are handed down here.

`loyalty.wiring.build()` fills every slot and `install()` puts the registry in place, called by
create_app and the CLI (which the scheduler runs under). A slot left empty fails at start with its
name, not later as a quiet `{}` or a KeyError in the middle of a request. This module sits beside
`core`: it imports no feature, and features read it only through `current()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

# A loyalty.members.models.Member: this module sits below members and can't name the class.
MemberRow = Any

# (session, member) after a member is enrolled, before the transaction commits.
EnrolledHook = Callable[[Session, MemberRow], None]
# (session, survivor, tombstone) after a merge: what the tombstone owned follows the survivor.
MergedHook = Callable[[Session, MemberRow, MemberRow], None]
# (session, member id) in the erasing transaction: a feature scrubs the free text it keeps.
ErasedHook = Callable[[Session, str], None]
# (session, member ids, before (at, item id) or None, limit): timeline items, newest first, as dicts
# with "at", "type", "id" and "data".
TimelineSource = Callable[[Session, list[str], tuple[datetime, str] | None, int], Iterable[dict[str, Any]]]
# (session, members) -> {member id: {"share_code": ..., "referred_by_code": ...}}
ReferralCodes = Callable[[Session, list[MemberRow]], dict[str, dict[str, str | None]]]


class PeriodFigures(Protocol):
    """A part of the insights summary over [start, end)."""

    def __call__(self, session: Session, *, start: datetime, end: datetime) -> Any: ...


# (session, campaign ids) -> {campaign id: {"template", "gift_points", "reward_id", "paused"}}
CampaignTerms = Callable[[Session, list[str]], dict[str, dict[str, Any]]]
# (session) -> ids of paused campaigns, whose touches wait
PausedCampaigns = Callable[[Session], list[str]]


class WiringMissing(RuntimeError):
    """Start-up failed: slots of the registry were left empty, or nothing was installed."""


@dataclass(frozen=True)
class Registry:
    """Callbacks from features above to the features below that need them. Hook tuples run in
    order (a merge moves holds before points, orders before tiers)."""

    on_enrolled: tuple[EnrolledHook, ...]
    on_merged: tuple[MergedHook, ...]
    on_erased: tuple[ErasedHook, ...]
    timeline_sources: tuple[TimelineSource, ...]
    referral_codes: ReferralCodes
    referral_funnel: PeriodFigures
    care_outcomes: PeriodFigures
    campaign_results: PeriodFigures
    campaign_terms: CampaignTerms
    paused_campaigns: PausedCampaigns

    def __post_init__(self) -> None:
        missing = [slot.name for slot in fields(self) if not _filled(getattr(self, slot.name))]
        if missing:
            raise WiringMissing(f"registry slots left empty: {', '.join(missing)} (fill them in loyalty.wiring)")


def _filled(value: object) -> bool:
    if isinstance(value, tuple):
        return bool(value) and all(callable(item) for item in value)
    return callable(value)


_installed: list[Registry] = []


def install(registry: Registry) -> None:
    """Put the registry in place (again, for each app a test builds: the latest one counts)."""
    if not isinstance(registry, Registry):
        raise WiringMissing(f"expected a loyalty.registry.Registry, got {type(registry).__name__}")
    _installed[:] = [registry]


def current() -> Registry:
    """The installed registry; before start-up, a loud error rather than a feature that silently
    does nothing."""
    if not _installed:
        raise WiringMissing(
            "no registry installed: create_app() or the `loyalty` CLI installs it at start (loyalty.wiring.wire())"
        )
    return _installed[0]
