"""The personal ID number rules, without a database."""

import pytest

from dancu.population import domain


@pytest.mark.parametrize(
    ("year", "sex", "digit"),
    [(1950, "M", 0), (1950, "F", 1), (2005, "M", 2), (2005, "F", 3), (2101, "F", 5),
     (2250, "M", 6), (2399, "F", 9)],
)
def test_century_sex_digit(year: int, sex: str, digit: int) -> None:
    assert domain.century_sex_digit(year, sex) == digit


def test_compose_then_decode_round_trips() -> None:
    number = domain.compose("038", 2003, "F", serial=42)
    assert number == "038303000042"
    decoded = domain.decode(number)
    assert (decoded.province_code, decoded.birth_year, decoded.sex) == ("038", 2003, "F")
    assert domain.check_personal_id(number, birth_year=2003, sex="F") == []


def test_random_serial_stays_in_six_digits() -> None:
    numbers = {domain.compose("001", 1990, "M") for _ in range(200)}
    assert all(len(n) == 12 and n.startswith("001090") for n in numbers)
    assert len(numbers) > 150  # drawn at random, not a counter


@pytest.mark.parametrize(
    ("number", "code"),
    [("12345678901", "E_ID_NUMBER_FORMAT"), ("03830300004a", "E_ID_NUMBER_FORMAT"),
     ("003303000042", "E_ID_NUMBER_PROVINCE")],
)
def test_bad_numbers_are_named(number: str, code: str) -> None:
    errors = domain.check_personal_id(number)
    assert errors and errors[0].code == code and errors[0].field == "personal_id"


def test_inconsistent_with_birth_year_and_sex() -> None:
    codes = {e.code for e in domain.check_personal_id("038303000042", birth_year=1903, sex="M")}
    assert codes == {"E_ID_NUMBER_BIRTH_YEAR", "E_ID_NUMBER_SEX"}
