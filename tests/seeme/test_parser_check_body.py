"""seeme.api.parsers.check_body: the quick first walk (strings searched all at once) refuses
exactly what the path-keeping walk refuses, with the same message and field."""

from hypothesis import given, settings
from hypothesis import strategies as st

from seeme.api.parsers import BodyRefused, _locate, check_body

STRINGS = st.one_of(
    st.text(max_size=5),
    st.sampled_from(["ok", "\x00", "a\ud800", "\udfffz", "🐈", "\ud83d\ude00", "x\n"]),
)
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), STRINGS),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(STRINGS, children, max_size=4)
    ),
    max_leaves=30,
)


def outcome(check, data, depth):
    try:
        check(data, depth)
    except BodyRefused as exc:
        return str(exc.detail), exc.errors
    return None


@settings(max_examples=500, deadline=None)
@given(data=JSON, depth=st.integers(1, 6))
def test_check_body_refuses_what_the_full_walk_refuses(data, depth):
    assert outcome(check_body, data, depth) == outcome(_locate, data, depth)


def test_check_body_names_the_place():
    body = {"inferences": [{"name": "ok"}, {"name": "a\x00b"}]}
    assert outcome(check_body, body, 64) == (
        "inferences.1.name holds a NUL character or a lone UTF-16 surrogate; remove that "
        "character.",
        {
            "inferences.1.name": [
                "inferences.1.name holds a NUL character or a lone UTF-16 surrogate; remove "
                "that character."
            ]
        },
    )
    assert outcome(check_body, {"a\ud800": 1}, 64)[0].startswith("A key in the body holds")
    assert outcome(check_body, [[[1]]], 2) == ("The body is nested deeper than 2 levels.", None)
    assert outcome(check_body, [[[1]]], 3) is None
    assert outcome(check_body, "\x00", 1) is not None
    assert outcome(check_body, 5, 1) is None
