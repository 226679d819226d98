"""Coordinated support's own two rules at intake (002 §1): the consent form and the indicators.

Pure functions of the referral's fields and the day received, called by
:func:`services.intake.rules.evaluate`; their reasons use the codes of ``contracts.md``.

**The consent form** (002 "Vid förfrågan används en samtyckesblankett"): ``consent.given``
true, a ``consent.form_ref`` that is not blank, and a ``consent.given_at`` no later than the
Stockholm date the referral is received. The form comes with the request, so it was signed by
then: there is no day's grace here, unlike the general bound on dates (2000-01-01 to the day
after receipt, ``malformed``, :func:`services.intake.referral_dates.within_bounds`). Each field
missing, or the date late, is one ``missing_consent`` naming it (``consent.form_ref``,
``consent.given_at``); a whole ``consent`` missing is one reason (``consent``); a consent
refused is ``consent.given`` alone (no form is asked of a family that said no). A ``given_at``
after the day received is ``missing_consent`` however late, never also ``malformed`` (the
stricter rule speaks); one before 2000 is ``malformed``. The other programmes need no consent:
there ``given_at`` is only held to the general bound.

**The indicators** "som skall vara uppfyllda": by default all five
(``IntakePolicy.min_indicators``); the administration may relax it by a recorded decision
(:mod:`services.intake.eligibility`). A referral short of the number required gets one
``no_eligibility_indicator`` (field ``indicators``) per indicator not given, in the contract's
order, each naming it and what it means; unknown names and repeats count for nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from types import MappingProxyType

from events.intake import Reason
from events.referrals import Consent

#: The five indicators (002 §1), in the contract's spelling and order, each with what it
#: restates of the seed.
INDICATOR_TEXTS: Mapping[str, str] = MappingProxyType(
    {
        "several_members_need_support": "several members of the child's family need "
        "coordinated support",
        "uncoordinated_actors": "several actors are in contact with the family and their "
        "coordination does not work",
        "extraordinary_support_needs": "the child needs extraordinary support in school, "
        "social services and/or health care",
        "economic_vulnerability": "the family lives in an economically vulnerable situation, "
        "with little attachment to the labour market and a weak social network",
        "risk_not_qualifying_upper_secondary": "the child risks not qualifying for a national "
        "upper-secondary programme",
    }
)
INDICATORS = frozenset(INDICATOR_TEXTS)

_MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        "consent": "coordinated support needs the family's signed consent form",
        "consent.given": "coordinated support needs the family's consent to be given",
        "consent.form_ref": "coordinated support needs the reference of the signed consent "
        "form (002: a consent form is used at the request)",
        "consent.given_at": "coordinated support needs the day the consent form was signed",
        "consent.given_at:late": "the consent form must be signed no later than the day the "
        "referral is received (Europe/Stockholm)",
        "all": "coordinated support needs every indicator of 002 §1; not given: {indicator} "
        "({text})",
        "relaxed": "coordinated support needs at least {needed} of the five indicators of "
        "002 §1 (the administration's recorded decision); {met} given; not given: "
        "{indicator} ({text})",
    }
)


def _missing_consent(key: str) -> Reason:
    return Reason(code="missing_consent", field=key.partition(":")[0], message=_MESSAGES[key])


def check_consent(consent: Consent | None, day: date, reasons: list[Reason]) -> bool:
    """Add a ``missing_consent`` per consent field missing or late (``day``: the Stockholm
    date received). True when ``given_at`` was judged here (then a date after ``day`` is late,
    not also malformed)."""
    if consent is None:
        reasons.append(_missing_consent("consent"))
        return False
    if not consent.given:
        reasons.append(_missing_consent("consent.given"))
        return False
    if not (consent.form_ref or "").strip():
        reasons.append(_missing_consent("consent.form_ref"))
    if consent.given_at is None:
        reasons.append(_missing_consent("consent.given_at"))
    elif consent.given_at > day:
        reasons.append(_missing_consent("consent.given_at:late"))
    return True


def missing_indicators(met: Sequence[str], needed: int) -> list[Reason]:
    """One ``no_eligibility_indicator`` per indicator not given, in the contract's order, when
    fewer than ``needed`` of the five are met; none otherwise. With all five needed (the seed's
    reading) each names the one missing; with fewer (a recorded relaxation) each also says how
    many are needed and given."""
    if len(met) >= needed:
        return []
    template = _MESSAGES["relaxed" if needed < len(INDICATORS) else "all"]
    return [
        Reason(
            code="no_eligibility_indicator",
            field="indicators",
            message=template.format(indicator=name, text=text, needed=needed, met=len(met)),
        )
        for name, text in INDICATOR_TEXTS.items()
        if name not in met
    ]
