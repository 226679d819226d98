"""Opening the three services' stores from the command line (read-mostly tools for people)."""

from __future__ import annotations

from collections.abc import Iterator

from infra.application import ServiceApplication
from infra.settings import SERVICES, ServiceName, Settings


def open_store(settings: Settings, service: ServiceName) -> ServiceApplication:
    if service == "intake":
        from services.intake.app import make_app as make_intake

        return make_intake(settings)
    if service == "scheduling":
        from services.scheduling.app import make_app as make_scheduling

        return make_scheduling(settings)
    from services.billing.app import make_app as make_billing

    return make_billing(settings)


def open_stores(settings: Settings) -> Iterator[tuple[ServiceName, ServiceApplication]]:
    for service in SERVICES:
        yield service, open_store(settings, service)
