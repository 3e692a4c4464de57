"""Every route handler of the application, in one list."""

from __future__ import annotations


def route_handlers() -> list:
    from api.health import health
    from api.pages.diagnosis import DiagnosisPages
    from api.v1.diagnosis import DiagnosisApi, ReferentielApi
    from api.pages.accounts import AccountPages
    from api.pages.organisation import OrganisationListPages, OrganisationPages
    from api.v1.accounts import SessionApi
    from api.v1.organisations import MyOrganisationsApi, OrganisationApi

    return [
        health,
        AccountPages,
        OrganisationListPages,
        OrganisationPages,
        SessionApi,
        MyOrganisationsApi,
        OrganisationApi,
        DiagnosisPages,
        ReferentielApi,
        DiagnosisApi,
    ]
