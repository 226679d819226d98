"""Opening the three services' stores from the command line (read-mostly tools for people)."""

from __future__ import annotations

from collections.abc import Iterator

from infra.application import ServiceApplication
from infra.settings import SERVICES, ServiceName, Settings
from infra.store import store_env


def open_store(settings: Settings, service: ServiceName) -> ServiceApplication:
    if service == "intake":
        from services.intake.app import make_app as make_intake

        return make_intake(settings)
    if service == "scheduling":
        from services.scheduling.app import make_app as make_scheduling

        return make_scheduling(settings)
    from services.billing.app import make_app as make_billing

    return make_billing(settings)


def open_reader(settings: Settings, service: ServiceName) -> ServiceApplication:
    """The service's application over its store without its composition root's start-up work
    (billing records its default tariffs, reading them first): for tools that read a store
    that may be damaged, and must change nothing."""
    if service == "billing":
        from services.billing.application import Billing

        return Billing(store_env(settings, "billing"))
    return open_store(settings, service)


def open_stores(settings: Settings) -> Iterator[tuple[ServiceName, ServiceApplication]]:
    for service in SERVICES:
        yield service, open_store(settings, service)
