"""Imports every feature's tables so that Base.metadata knows them all (Alembic, tests)."""

from loyalty.audit import models as audit_models  # noqa: F401
from loyalty.campaigns import models as campaigns_models  # noqa: F401
from loyalty.care import models as care_models  # noqa: F401
from loyalty.console import models as console_models  # noqa: F401
from loyalty.core import models as core_models  # noqa: F401
from loyalty.imports import order_models as import_order_models  # noqa: F401
from loyalty.insights import models as insights_models  # noqa: F401
from loyalty.members import models as members_models  # noqa: F401
from loyalty.points import models as points_models  # noqa: F401
from loyalty.program import models as program_models  # noqa: F401
from loyalty.purchases import models as purchases_models  # noqa: F401
from loyalty.redemptions import models as redemptions_models  # noqa: F401
from loyalty.referrals import models as referrals_models  # noqa: F401
from loyalty.rewards import models as rewards_models  # noqa: F401
from loyalty.tiers import models as tiers_models  # noqa: F401
from loyalty.webhooks import models as webhooks_models  # noqa: F401
