"""Contract terms made visible: the note when none is in force, notices and their deadline."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.months import last_day, months_before
from services.billing.settlement import PROGRAMMES, settle
from services.billing.tariff_entries import Extension, TariffError, Termination
from services.billing.tariff_seeds import default_catalogue
from services.billing.terms import notice_end, term_notices

JOINT = "coordinated-network-2018"
CATALOGUE = default_catalogue()


def notes(month: str, catalogue: object = CATALOGUE, programme: str | None = None) -> list[str]:
    return [
        n for n in settle(month, [], catalogue, programme=programme)["notes"]  # type: ignore[arg-type]
        if "contract" in n and "in force" in n
    ]  # fmt: skip


def test_a_programme_whose_contract_ended_gets_a_note_saying_so() -> None:
    assert notes("2021-08") == []
    assert notes("2021-09") == [
        f"coordinated: contract {JOINT} ended on 2021-08-31, no extension recorded; "
        "no contract in force",
        f"network: contract {JOINT} ended on 2021-08-31, no extension recorded; "
        "no contract in force",
    ]
    assert notes("2021-09", programme="field") == []
    assert notes("2021-12", programme="counselling") == []  # no contract ever ended
    extended = CATALOGUE.with_entries(Extension(entry_id="e", contract=JOINT))
    assert notes("2024-08", extended) == [] and len(notes("2024-09", extended)) == 2


def test_an_open_ended_contract_ends_at_the_month_end_twelve_months_after_the_notice() -> None:
    assert notice_end(CATALOGUE, "field-2021", date(2023, 3, 15)) == date(2024, 3, 31)
    assert notice_end(CATALOGUE, "field-2021", date(2023, 3, 1)) == date(2024, 3, 31)
    assert notice_end(CATALOGUE, "field-2021", date(2023, 2, 28)) == date(2024, 2, 29)


@given(st.dates(min_value=date(2021, 1, 1), max_value=date(2090, 12, 31)))
def test_a_notice_never_shortens_the_twelve_months(given_on: date) -> None:
    end = notice_end(CATALOGUE, "field-2021", given_on)
    assert end == last_day(end.year, end.month)
    assert end >= months_before(given_on, -12) > given_on
    assert (end.year * 12 + end.month) - (given_on.year * 12 + given_on.month) == 12


def test_a_fixed_term_is_ended_at_its_end_by_a_notice_in_time_and_refused_after() -> None:
    assert notice_end(CATALOGUE, JOINT, date(2020, 8, 31)) == date(2021, 8, 31)
    with pytest.raises(TariffError, match="by 2020-08-31"):
        notice_end(CATALOGUE, JOINT, date(2020, 9, 1))


def test_a_recorded_notice_ends_the_term_and_is_named_in_the_note() -> None:
    field = CATALOGUE.with_entries(
        Termination(entry_id="t", contract="field-2021", given_on=date(2023, 3, 15),
                    ends_on=date(2024, 3, 31))
    )  # fmt: skip
    assert [line["kind"] for line in settle("2024-03", [], field, programme="field")["lines"]] == [
        "fixed"
    ]
    assert settle("2024-04", [], field, programme="field")["lines"] == []
    assert notes("2024-04", field, "field") == [
        "field: contract field-2021 ended on 2024-03-31, by the notice given on 2023-03-15; "
        "no contract in force"
    ]


def test_status_warns_before_the_notice_deadline_and_when_no_contract_is_in_force() -> None:
    def codes(today: date, catalogue: object = CATALOGUE) -> list[str]:
        return [n["code"] for n in term_notices(catalogue, PROGRAMMES, today)]  # type: ignore[arg-type]

    assert codes(date(2020, 6, 1)) == []
    assert codes(date(2020, 6, 2)) == codes(date(2020, 8, 31)) == ["notice_deadline"]
    assert codes(date(2020, 9, 1)) == []
    assert codes(date(2022, 1, 1)) == ["no_contract_in_force", "no_contract_in_force"]
    ended = CATALOGUE.with_entries(
        Termination(entry_id="t", contract=JOINT, given_on=date(2020, 6, 10),
                    ends_on=date(2021, 8, 31))
    )  # fmt: skip
    assert codes(date(2020, 7, 1), ended) == ["contract_terminated"]
    [message] = [n["message"] for n in term_notices(CATALOGUE, PROGRAMMES, date(2020, 7, 1))]
    assert "by 2020-08-31" in message and "runs to 2021-08-31" in message


def test_status_warnings_name_the_contract_in_words_and_say_what_to_do() -> None:
    [deadline] = term_notices(CATALOGUE, PROGRAMMES, date(2020, 7, 1))
    assert deadline["code"] == "notice_deadline"
    assert deadline["message"].startswith(
        "The coordinated support and network work contract (2018) runs to 2021-08-31."
    )
    assert "lots settlement terminate coordinated-network-2018" in deadline["message"]
    lapsed = term_notices(CATALOGUE, PROGRAMMES, date(2022, 1, 1))
    assert [n["message"].split(":")[0] for n in lapsed] == [
        "Network work has no contract in force",
        "Coordinated support has no contract in force",
    ]
    assert "ended on 2021-08-31 and no extension is recorded" in lapsed[0]["message"]
    assert "record it (POST /tariffs/extensions" in lapsed[0]["message"]
    for notice in [deadline, *lapsed]:
        assert "seed" not in notice["message"] and "§" not in notice["message"]
        assert "coordinated-network-2018 ended" not in notice["message"]
