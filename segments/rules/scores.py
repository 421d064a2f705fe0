"""The hook through which propensity models offer their scores to rules.

segments must not import analytics (apps depend one way), so analytics registers
a provider per model key from its AppConfig.ready() (and when it trains a new
model). Until a model is registered, a score condition naming it fails
validation with "no propensity model named X".
"""

from collections.abc import Callable

from django.db.models import Expression

ScoreFactory = Callable[[str], Expression]

_providers: dict[str, ScoreFactory] = {}


def register_score_provider(name: str, subquery_factory: ScoreFactory) -> None:
    """Make score conditions with ``"model": name`` compile.

    ``subquery_factory(name)`` returns an expression usable in a ``Profile``
    queryset that gives that profile's score (a number, NULL when unscored),
    typically ``Subquery(Score.objects.filter(profile=OuterRef("pk"), model__key=name).values("score")[:1])``.
    """
    _providers[name] = subquery_factory


def unregister_score_provider(name: str) -> None:
    _providers.pop(name, None)


def score_provider(name: str) -> ScoreFactory | None:
    return _providers.get(name)


def score_models() -> list[str]:
    return sorted(_providers)
