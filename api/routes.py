"""Every route handler of the application, in one list."""

from __future__ import annotations


def route_handlers() -> list:
    from api.health import health
    from api.pages.plans import DemarchePages, PlanPages
    from api.v1.plans import PlanApi
    from api.pages.results import ResultsPages
    from api.v1.results import ResultsApi
    from api.v1.consultations import CampaignApi
    from api.pages.consultations import ConsultationPages
    from api.pages.respond import InvitationPages, OpenLinkPages, UnsubscribePages
    from api.pages.diagnosis import DiagnosisPages
    from api.v1.diagnosis import DiagnosisApi, ReferentielApi
    from api.pages.accounts import AccountPages
    from api.pages.demo_inbox import DemoInboxPages
    from api.pages.organisation import OrganisationListPages, OrganisationPages
    from api.v1.accounts import SessionApi
    from api.v1.organisations import MyOrganisationsApi, OrganisationApi
    from api.pages.stakeholders import StakeholderPages
    from api.v1.stakeholders import ContactsApi, StakeholderGroupsApi

    return [
        health,
        AccountPages,
        DemoInboxPages,
        OrganisationListPages,
        OrganisationPages,
        SessionApi,
        MyOrganisationsApi,
        OrganisationApi,
        StakeholderPages,
        StakeholderGroupsApi,
        ContactsApi,
        DiagnosisPages,
        ReferentielApi,
        DiagnosisApi,
        ConsultationPages,
        InvitationPages,
        OpenLinkPages,
        UnsubscribePages,
        CampaignApi,
        ResultsPages,
        ResultsApi,
        PlanPages,
        DemarchePages,
        PlanApi,
    ]
