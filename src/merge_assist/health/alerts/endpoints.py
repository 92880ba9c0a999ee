"""Alert routes, for administrators: settings, a test alert, and the recent incidents."""

from __future__ import annotations

from fastapi import APIRouter

from merge_assist.auth.dependencies import AdminUser
from merge_assist.health.alerts import service
from merge_assist.health.alerts.evaluator import send_test_alert
from merge_assist.health.alerts.schemas import (
    AlertDeliveryOut,
    AlertSettings,
    AlertSettingsChange,
    RecentAlerts,
    TestAlertResult,
)
from merge_assist.kit.clock import utcnow
from merge_assist.kit.web import Resources, Session

router = APIRouter(prefix="/api/health/alerts", tags=["health"])


@router.get("", response_model=RecentAlerts)
async def recent(_admin: AdminUser, session: Session) -> RecentAlerts:
    """The newest incidents (open ones included) with their notifications."""
    return await service.recent_alerts(session)


@router.get("/settings", response_model=AlertSettings)
async def read_settings(_admin: AdminUser, session: Session) -> AlertSettings:
    """The alert settings; the SMTP password and the webhook URL only as whether they are set."""
    return service.settings_view(await service.current_settings(session))


@router.put("/settings", response_model=AlertSettings)
async def change_settings(
    change: AlertSettingsChange, admin: AdminUser, session: Session, res: Resources
) -> AlertSettings:
    """Change the alert settings (omitted fields stay; a secret sent as "" is removed)."""
    row = await service.change_settings(
        session, res.settings, change, actor_id=admin.id, actor_name=admin.username
    )
    return service.settings_view(row)


@router.post("/test", response_model=TestAlertResult)
async def test_alert(admin: AdminUser, session: Session, res: Resources) -> TestAlertResult:
    """Send a test alert on every channel turned on; says what happened on each."""
    outcomes = await send_test_alert(
        session, res.settings, actor_id=admin.id, actor_name=admin.username, now=utcnow()
    )
    return TestAlertResult(
        deliveries=[
            AlertDeliveryOut(
                channel=item.channel,
                kind=item.notice.kind.value,
                status=item.status.value,
                error=item.error,
                created_at=utcnow(),
            )
            for item in outcomes
        ]
    )
