"""The survey's results (public: the survey's results JSON, `covote survey tabulate`) and view.

Built by `app.rules.survey_tally.tabulate`. A figure is null when it is suppressed: the group it
is computed from has fewer than m respondents, or showing it would let a smaller group be worked
out from the other figures (complementary suppression). A standard question a service does not
ask has no key at all. Means, shares and scores are rounded for display once
(`survey_tally.ROUND_TO` decimals); counts are whole numbers. `SurveyView` is a survey round's
results view: the counting kind's (`AnswersView`) with these figures and their names.
"""

from typing import Literal, NotRequired

from typing_extensions import TypedDict

from app.core.shapes.counting import AnswersView


class MeanFigure(TypedDict):
    """A mean on a 1-5 scale with its 95 % confidence interval (t-based, within the scale;
    null with fewer than 2 answers)."""

    n: int  # answers the mean is taken over
    mean: float | None
    ci: list[float] | None  # [low, high]


class SatisfactionFigure(TypedDict):
    """Satisfaction with a service: its mean over those who use it, and who does not."""

    n: int  # answered, "don't use" included
    dont_use: int
    dont_use_share: float
    users: MeanFigure | None  # over the n - dont_use users; null when they are suppressed


class Distribution(TypedDict):
    """Each answer's count and share of n, in the scale's order (a multiple choice: each
    choice's, so shares may add up to more than 1)."""

    n: int
    counts: dict[str, int]
    shares: dict[str, float]


class NeedFigure(Distribution):
    score: float  # 0 (all "never") to 100 (all "often"): never 0, sometimes 50, often 100


class HelpFigure(Distribution):
    any: int  # helps (or would help) in at least one way: n minus "none"
    any_share: float


class HoursFigure(TypedDict):
    n: int  # who gave a number of hours (0 included)
    sum: int
    median: float


class ServiceFigures(TypedDict):
    """One service's figures within one group of respondents."""

    service: str
    quadrant: str | None  # vocab.Quadrant; null without both means (or not asked)
    value: NotRequired[MeanFigure | None]
    need: NotRequired[NeedFigure | None]
    satisfaction: NotRequired[SatisfactionFigure | None]
    contributes: NotRequired[HelpFigure | None]
    more: NotRequired[HelpFigure | None]
    hours: NotRequired[HoursFigure | None]  # never weighted: offers of real people


class CountFigure(TypedDict):
    n: int  # a text question's answers: counted, never tabulated


class CustomFigures(TypedDict):
    """A custom question's figures: a Distribution (single, multiple), a MeanFigure (scale)
    or a CountFigure (text); null when suppressed."""

    question: str
    type: str  # survey.CustomType's value
    figure: Distribution | MeanFigure | CountFigure | None


class GroupFigures(TypedDict):
    """Every figure of one group of respondents: everyone, a segment or an area."""

    respondents: int | None
    services: list[ServiceFigures]
    custom: list[CustomFigures]


class SegmentFigures(GroupFigures):
    segment: str


class AreaFigures(GroupFigures):
    area: str


class Axes(TypedDict):
    """Where the priority matrix splits value and satisfaction: the median of the services'
    means (`basis` "median") or the scale's midpoint 3 ("midpoint")."""

    basis: Literal["median", "midpoint"]
    value: float
    satisfaction: float


class WeightedResults(TypedDict):
    """The overall figures weighted to the population's shares (raking): counts and n stay
    the respondents'; means, intervals, shares, scores and quadrants are weighted."""

    margins: list[str]  # "area", "segment:ID": the margins the weights match
    skipped: list[str]  # margins left out: nobody (or everybody) in the sample is in them
    effective_n: float  # Kish: (sum w)^2 / sum w^2
    iterations: int
    converged: bool
    axes: Axes
    overall: GroupFigures
    need_ranking: list[str]


class SurveyResults(TypedDict):
    """A survey's results JSON: what `covote survey tabulate` prints."""

    format: Literal["covote-survey-results/1"]
    m: int
    axes: Axes
    overall: GroupFigures  # its respondents is always shown (turnout, as for a round)
    need_ranking: list[str]  # services by need score, highest first (suppressed ones left out)
    segments: list[SegmentFigures]  # in order of segment id
    areas: list[AreaFigures]  # in the survey's order
    weighted: WeightedResults | None


class SurveyLabels(TypedDict):
    """The names of what a survey's results count, by key, in every language they have ("en"
    always): its services, its areas and the meeting's segments."""

    services: dict[str, dict[str, str]]
    areas: dict[str, dict[str, str]]
    segments: dict[str, dict[str, str]]


class SurveyView(AnswersView):
    """A survey round's results as the screens show them: each answer's count, and the
    survey's own figures (`survey_tally.tabulate` over the published responses) with the names
    its charts need (app/record/survey_charts.py)."""

    survey: SurveyResults
    labels: SurveyLabels
