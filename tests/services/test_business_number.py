from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.services.business_number import (
    BusinessNumberError,
    check_digit,
    format_business_number,
    normalize_business_number,
)

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(nine_digits)
def test_a_number_with_its_check_digit_is_accepted_in_both_forms(first_nine):
    digits = first_nine + str(check_digit(first_nine))
    assert normalize_business_number(digits) == digits
    assert normalize_business_number(format_business_number(digits)) == digits


@given(nine_digits, st.integers(min_value=1, max_value=9))
def test_any_other_last_digit_is_refused(first_nine, shift):
    wrong = (check_digit(first_nine) + shift) % 10
    with pytest.raises(BusinessNumberError, match="check digit"):
        normalize_business_number(first_nine + str(wrong))


def test_check_digit_worked_by_hand():
    # 1*1 + 2*3 + 4*7 + 8*1 + 1*3 + 0*7 + 0*1 + 9*3 + 9*5 = 118; + (9*5)//10 = 122; 10-2 = 8
    assert check_digit("124810099") == 8
    assert normalize_business_number("124-81-00998") == "1248100998"
    with pytest.raises(BusinessNumberError):
        normalize_business_number("124-81-00997")


@pytest.mark.parametrize("value", ["", "123", "12345678901", "22a-81-62517", "220_81_62517"])
def test_malformed_numbers_are_refused(value):
    with pytest.raises(BusinessNumberError):
        normalize_business_number(value)
