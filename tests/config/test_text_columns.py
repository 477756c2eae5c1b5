"""One rule for what a text column refuses, asked by the webhook envelope and the contact fields alike."""

import pytest

from config.values.text_columns import text_column_problem
from contacts.normalize import SkippedValue, check_storable
from webhooks.providers.fields import EnvelopeError, check_stored_text


@pytest.mark.parametrize(
    ("text", "max_length", "problem"),
    [
        ("usr_321", 128, None),
        ("x" * 129, 128, "must be at most 128 characters"),
        ("x" * 10_000, None, None),
        ("usr\x00321", 128, "must not contain NUL characters"),
        ("usr\x00321", None, "must not contain NUL characters"),
    ],
)
def test_a_text_column_refuses_a_value_longer_than_it_or_holding_a_nul(text, max_length, problem):
    assert text_column_problem(text, max_length=max_length) == problem


def test_the_envelope_and_the_contact_refuse_the_same_text_for_the_same_reason():
    with pytest.raises(EnvelopeError, match="^'eventId' must not contain NUL characters$"):
        check_stored_text("a\x00b", field="eventId", max_length=128)
    with pytest.raises(SkippedValue, match="^status must not contain NUL characters$"):
        check_storable("status", "a\x00b")
    with pytest.raises(SkippedValue, match="^status must be at most"):
        check_storable("status", "x" * 10_000)
