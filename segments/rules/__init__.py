"""The audience rule language: validate, compile to one query, evaluate, describe.

A self-contained module with a small public interface, used by audiences and
later by offer eligibility and journey conditions. The JSON shapes are in
``schema.json`` and explained with examples in ``docs/rules.md``::

    from segments import rules

    rules.validate(rule)                              # RuleError(code "invalid_rule") with paths
    Profile.objects.filter(rules.compile_rule(rule))  # one set-based query
    rules.evaluate(rule, profile)                     # the same query for one profile
    rules.describe(rule)                              # plain English
"""

from .compiler import compile_rule, evaluate, matching_profiles
from .describe import audience_ids, describe, event_names, is_time_dependent
from .errors import RuleError
from .scores import register_score_provider, score_models, unregister_score_provider
from .validation import schema, validate

__all__ = [
    "RuleError",
    "audience_ids",
    "compile_rule",
    "describe",
    "evaluate",
    "event_names",
    "is_time_dependent",
    "matching_profiles",
    "register_score_provider",
    "schema",
    "score_models",
    "unregister_score_provider",
    "validate",
]
