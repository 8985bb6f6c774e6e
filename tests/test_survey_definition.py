"""The survey's definition (app/rules/survey.py): the items a survey round asks, their scales,
and what makes a survey unusable."""

from __future__ import annotations

from app.rules import survey as sv
from app.rules.scales import Choice, Problem


def _survey(**kw: object) -> sv.Survey:
    base: dict[str, object] = {
        "title": "Services in Ashdown",
        "services": (
            sv.Service("library", "Mobile library"),
            sv.Service("respite", "Respite care", questions=(sv.Standard.VALUE, sv.Standard.NEED)),
        ),
        "custom": (
            sv.CustomQuestion(
                "travel",
                sv.CustomType.SINGLE,
                "How do you travel?",
                (Choice("bus", None, "Bus"), Choice("car", None, "Car")),
            ),
            sv.CustomQuestion("ideas", sv.CustomType.TEXT, "Any ideas?", max_length=80),
        ),
        "areas": (sv.Area("north", "North ward", "E05000001"), sv.Area("south", "South ward")),
    }
    base.update(kw)
    return sv.Survey(**base)  # type: ignore[arg-type]


def test_items_follow_the_order_a_respondent_meets_them() -> None:
    keys = [i.key for i in sv.items(_survey())]
    assert keys == [
        "library.value",
        "library.need",
        "library.satisfaction",
        "library.contributes",
        "library.more",
        "library.hours",
        "respite.value",
        "respite.need",
        "q.travel",
        "q.ideas",
        "area",
    ]


def test_keypads_answer_the_one_to_five_questions_and_a_short_area_list() -> None:
    by_key = {i.key: i.scale for i in sv.items(_survey())}
    assert by_key["library.value"].answer_for_key(4) == "4"
    assert by_key["library.satisfaction"].answer_for_key(6) == sv.DONT_USE
    assert by_key["library.need"].answer_for_key(3) == sv.NEED_OFTEN
    assert by_key["area"].answer_for_key(2) == "south"
    assert by_key["q.travel"].answer_for_key(1) == "bus"
    assert by_key["library.contributes"].keypad_choices == 0  # one press is one choice


def test_none_of_these_is_an_answer_only_on_its_own() -> None:
    scale = sv.HELP_SCALE
    assert scale.parse("none") == "none"
    assert scale.parse("volunteer;group") == "volunteer;group"
    refused = scale.parse("volunteer;none")
    assert isinstance(refused, Problem)
    assert "cannot pick" in refused.message("library.more")
    assert scale.describe()["alone"] == ["none"]


def test_hours_are_bounded() -> None:
    assert sv.HOURS_SCALE.parse("12") == "12"
    assert isinstance(sv.HOURS_SCALE.parse(str(sv.MAX_HOURS + 1)), Problem)
    assert isinstance(sv.HOURS_SCALE.parse("-1"), Problem)


def test_a_good_survey_has_no_problems_and_item_keys_fit_the_wire() -> None:
    assert sv.problems(_survey()) == []
    long = sv.Service("s" * sv.MAX_SERVICE_KEY, "Long")
    assert max(len(i.key) for i in sv.items(_survey(services=(long,)))) <= 64


def test_problems_name_each_thing_wrong() -> None:
    bad = _survey(
        title="",
        services=(sv.Service("Library!", "x"), sv.Service("a", "A", questions=())),
        custom=(sv.CustomQuestion("pick", sv.CustomType.MULTIPLE, "Pick"),),
        areas=(sv.Area("n", "N"), sv.Area("n", "N again")),
    )
    found = "\n".join(sv.problems(bad))
    assert "the title must be" in found
    assert "service key 'Library!'" in found
    assert "service 'a' must ask" in found
    assert "question 'pick' needs 1-20 choices" in found
    assert "area keys repeat" in found
    assert sv.problems(_survey(services=(), custom=())) == [
        "the survey asks nothing: add a service or a question"
    ]
