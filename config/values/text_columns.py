"""What a text column refuses, asked before the value is written: a value longer than the column, and a NUL
character, which PostgreSQL text (and jsonb) never stores. The webhook envelope's ids (``webhooks``) and
the contact's fields (``contacts``) ask the same question here, so both refuse the same values."""


def text_column_problem(text: str, *, max_length: int | None) -> str | None:
    """Why a text column of ``max_length`` (None: unbounded) would refuse ``text``, or None when it stores it."""
    if max_length is not None and len(text) > max_length:
        return f"must be at most {max_length} characters"
    if "\x00" in text:
        return "must not contain NUL characters"
    return None
