"""Reminders: to invitations not yet used, on a schedule (e.g. 7 then 14 days after launch)
or by hand, with a maximum count and a minimum interval.

Nothing records *who* was reminded: the campaign keeps a count and the last day, and
each round goes to every invitation still unused at that moment."""

from __future__ import annotations

import datetime as dt
import uuid

from api.db import transaction
from api.errors import Conflict
from consultations.services import _campaign_in, _queue_invitation_email, today
from consultations.tables import Campaign, Invitation
from organisations.tables import Contact, Organisation

MIN_INTERVAL_DAYS = 2


def reminder_due(campaign: dict, on: dt.date) -> bool:
    """Is the next scheduled reminder due on this day?"""
    if campaign["status"] != "open" or campaign["launched_at"] is None:
        return False
    sent = campaign["reminders_sent"] or 0
    schedule = sorted(campaign["reminder_days"] or [])
    if sent >= min(campaign["reminder_max"], len(schedule)):
        return False
    launched = campaign["launched_at"].date()
    if (on - launched).days < schedule[sent]:
        return False
    last = campaign["last_reminder_on"]
    return last is None or (on - last).days >= MIN_INTERVAL_DAYS


async def send_reminders(*, organisation_id: uuid.UUID, campaign_id: uuid.UUID, on: dt.date | None = None, manual: bool = False) -> int:
    """Queue one reminder per invitation not yet used (and not revoked, not opted out). Returns how many."""
    on = on or today()
    async with transaction():
        campaign = await _campaign_in(organisation_id, campaign_id)
        if campaign["status"] != "open":
            raise Conflict("Seule une consultation ouverte peut être relancée.")
        if (campaign["reminders_sent"] or 0) >= campaign["reminder_max"]:
            raise Conflict(f"Le nombre maximal de relances ({campaign['reminder_max']}) est atteint.")
        last = campaign["last_reminder_on"]
        if last is not None and (on - last).days < MIN_INTERVAL_DAYS:
            raise Conflict(f"Une relance a déjà été envoyée le {last:%d/%m/%Y} : attendez au moins {MIN_INTERVAL_DAYS} jours entre deux relances.")
        if not manual and not reminder_due(campaign, on):
            return 0
        org = await Organisation.select(Organisation.name).where(Organisation.id == organisation_id).first()
        pending = await Invitation.select().where(
            (Invitation.campaign == campaign_id) & (Invitation.used == False) & (Invitation.revoked == False) & Invitation.contact.is_not_null()  # noqa: E712
        )
        contacts = {
            c["id"]: c
            for c in await Contact.select().where(
                Contact.id.is_in([i["contact"] for i in pending] or [uuid.uuid4()]) & (Contact.opted_out == False)  # noqa: E712
            )
        }
        count = 0
        for invitation in pending:
            contact = contacts.get(invitation["contact"])
            if contact is None or not contact["email"]:
                continue
            await _queue_invitation_email("reminder", org["name"], campaign, invitation, contact)
            count += 1
        await Campaign.update({Campaign.reminders_sent: (campaign["reminders_sent"] or 0) + 1, Campaign.last_reminder_on: on}).where(
            Campaign.id == campaign_id
        )
    return count


async def run_due_reminders(on: dt.date | None = None) -> int:
    """Send every scheduled reminder that is due (called by the mail worker every few minutes)."""
    on = on or today()
    total = 0
    for campaign in await Campaign.select().where(Campaign.status == "open").output(load_json=True):
        if reminder_due(campaign, on):
            try:
                total += await send_reminders(organisation_id=campaign["organisation"], campaign_id=campaign["id"], on=on)
            except Conflict:
                continue
    return total
