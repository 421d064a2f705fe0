"""The one error the rule language raises."""

from cxo_site.errors import DomainError


class RuleError(DomainError):
    """A rule that is not valid. ``errors`` lists ``{"path": ..., "message": ...}``.

    ``path`` points into the rule (``conditions[1].filters[0].value``; "" is the
    rule itself). As API JSON the errors become field-level messages under
    ``rule`` (``{"errors": {"rule.conditions[1].filters[0].value": ["..."]}}``).
    """

    code = "invalid_rule"

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        first = errors[0] if errors else {"path": "", "message": "The rule is not valid."}
        where = f" at {first['path']}" if first["path"] else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"Invalid rule{where}: {first['message']}{more}")

    def as_dict(self) -> dict:
        body = super().as_dict()
        fields: dict[str, list[str]] = {}
        for error in self.errors:
            key = f"rule.{error['path']}" if error["path"] else "rule"
            fields.setdefault(key, []).append(error["message"])
        body["errors"] = fields
        return body
