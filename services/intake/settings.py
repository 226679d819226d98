"""Intake's own settings: its rules, its rate limits and its retention, read from ``LOTS_*``.

:class:`IntakeSettings` is :class:`infra.settings.Settings` (what every service and the command
line share: Redis, stores, ports, tokens, logging, the calendar, intake's streams) plus intake's
own fields, read from the same environment under the same names. It extends ``Settings`` rather
than standing beside it so that one object still travels where one did (``make_app(settings)``
from :func:`infra.service.serve`, the supervisor's :meth:`~lots.supervisor.Supervisor.child_env`,
tests and benchmarks): :meth:`IntakeSettings.of` reads intake's fields from the environment when
it is handed the shared settings only.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from infra.settings import Settings

#: The programmes a referral can ask for (field work takes no referrals).
Referable = Literal["network", "coordinated", "counselling"]
PriorityLabel = Literal["acute", "decision", "service"]


class SourceRate(BaseModel):
    """A source's own rate limit on referrals (``per_minute`` 0: no limit for that source)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    per_minute: int = Field(ge=0)
    burst: int = Field(default=1, ge=1)


class IntakeSettings(Settings):
    """The shared settings and intake's own (``docs/intake.md``, README's settings table)."""

    # --- intake's rules (the seeds' values by default) -------------------------------------
    #: No longer read: coordinated support needs all five indicators unless the
    #: administration's decision is recorded (services/intake/eligibility.py). Set, it is
    #: refused, so that no deployment believes another rule is in force.
    intake_min_indicators: int | None = None
    #: Days from receipt to the first contact due, per programme (counselling: the seed's 14).
    first_contact_days_network: int = Field(default=14, ge=0)
    first_contact_days_coordinated: int = Field(default=14, ge=0)
    first_contact_days_counselling: int = Field(default=14, ge=0)
    #: Per programme, the order its waiting cases are served in, as JSON
    #: (``{"network": ["acute", "decision", "service"]}``); a programme not named keeps the
    #: seeds' order (services/intake/priority.py).
    intake_priority_order: dict[Referable, tuple[PriorityLabel, PriorityLabel, PriorityLabel]] = (
        Field(default_factory=dict)
    )
    #: No longer read: intake follows the terms billing records (``TariffRecorded`` on
    #: billing.events, services/intake/terms.py). Set, it is refused, so that no deployment
    #: believes its ends are the ones intake judges referrals by.
    intake_contract_ends: Any = None

    #: Referrals a source may send a minute on average, per intake instance (0: no limit), and
    #: how many at once; a referral beyond them is refused with ``rate_limited``.
    intake_rate_per_minute: int = Field(default=600, ge=0)
    intake_rate_burst: int = Field(default=600, ge=1)
    #: Per-source exceptions, as JSON: ``{"source": {"per_minute": 60, "burst": 10}}``.
    intake_rate_overrides: dict[str, SourceRate] = Field(default_factory=dict)
    #: Years after the last entry in every case of a person before their data is erased
    #: (Social Services Act: five); a case can be held past it by a recorded exception.
    retention_years: int = Field(default=5, ge=1)

    @field_validator("intake_priority_order")
    @classmethod
    def _each_label_once(cls, orders: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for programme, order in orders.items():
            if len(set(order)) != len(order):
                raise ValueError(f"{programme}: rank acute, decision and service, each once")
        return orders

    @field_validator("intake_contract_ends")
    @classmethod
    def _ends_are_billing_s(cls, value: Any) -> None:
        if value is not None:
            raise ValueError(
                "LOTS_INTAKE_CONTRACT_ENDS is no longer read: intake follows the extensions, "
                "notices and terms billing records (POST /tariffs/extensions, /tariffs/terms, "
                "/tariffs/terminations, lots settlement terminate); unset it"
            )

    @field_validator("intake_min_indicators")
    @classmethod
    def _indicators_are_decided(cls, value: int | None) -> None:
        if value is not None:
            raise ValueError(
                "LOTS_INTAKE_MIN_INDICATORS is no longer read: coordinated support needs all "
                "five indicators (002 §1) unless the administration's decision is recorded "
                "(POST /eligibility/indicators on intake); unset it"
            )

    @classmethod
    def of(cls, settings: Settings) -> IntakeSettings:
        """``settings`` if they are intake's already, else the same shared values with intake's
        own read from the environment (as ``IntakeSettings()`` would)."""
        if isinstance(settings, cls):
            return settings
        return cls(**settings.model_dump())
