"""Times as departments read them: Vietnam local time (UTC+7, no daylight saving), dd/mm/yyyy hh:mm."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

VIETNAM = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")


def shown(moment: datetime) -> str:
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")
