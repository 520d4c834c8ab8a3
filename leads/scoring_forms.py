"""The scoring page's form: one row per seniority, segment and touch type (always there), and
rows of industries, countries and employee ranges (the workspace's, and a few blank ones to add;
a row left blank is no rule)."""

import hashlib
import json

from django import forms
from django.utils.translation import gettext_lazy as _

from attribution.choices import TouchType
from workspaces.choices import Segment, Seniority

from .scoring import COUNTRY, EMPLOYEES, INDUSTRY, MAX_POINTS, MAX_SCORE, MIN_POINTS, SEGMENT, SENIORITY, TOUCH, Rule

BLANK_ROWS = 3
FREE_KINDS = (INDUSTRY, COUNTRY, EMPLOYEES)


def _points(required: bool = True) -> forms.IntegerField:
    return forms.IntegerField(
        label=_("Points"),
        min_value=MIN_POINTS,
        max_value=MAX_POINTS,
        required=required,
        initial=0 if required else None,
    )


class ScoringForm(forms.Form):
    mql_threshold = forms.IntegerField(
        label=_("MQL threshold"),
        min_value=1,
        max_value=MAX_SCORE,
        help_text=_("A lead in stage lead or recycled whose score reaches this becomes an MQL and goes to sales."),
    )
    # the signature of the rules the person saw the preview of: saving other rules shows a new preview
    reviewed = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *, rules: list[Rule], threshold: int, editable: bool = True):
        super().__init__(data)
        self.fields["mql_threshold"].initial = threshold
        by_key = {(r.kind, r.value): r for r in rules}
        self.fixed: dict[str, list[tuple[str, str]]] = {
            SENIORITY: list(Seniority.choices),
            SEGMENT: list(Segment.choices),
            TOUCH: list(TouchType.choices),
        }
        for kind, choices in self.fixed.items():
            for value, _label in choices:
                field = _points()
                rule = by_key.get((kind, value))
                field.initial = rule.points if rule else 0
                self.fields[f"{kind}__{value}__points"] = field
                if kind == TOUCH:
                    self.fields[f"{kind}__{value}__half_life"] = forms.IntegerField(
                        label=_("Half-life in days"),
                        min_value=1,
                        max_value=3650,
                        required=False,
                        initial=rule.half_life_days if rule else None,
                    )
        self.free_counts = {}
        for kind in FREE_KINDS:
            existing = [r for r in rules if r.kind == kind]
            count = self._posted_rows(kind) if data is not None else len(existing) + (BLANK_ROWS if editable else 0)
            self.free_counts[kind] = count
            for i in range(count):
                rule = existing[i] if i < len(existing) else None
                if kind == EMPLOYEES:
                    self.fields[f"{kind}__{i}__min"] = forms.IntegerField(
                        label=_("From"), min_value=0, required=False, initial=rule.min_employees if rule else None
                    )
                    self.fields[f"{kind}__{i}__max"] = forms.IntegerField(
                        label=_("To"), min_value=0, required=False, initial=rule.max_employees if rule else None
                    )
                else:
                    self.fields[f"{kind}__{i}__value"] = forms.CharField(
                        label=_("Country code") if kind == COUNTRY else _("Industry"),
                        max_length=2 if kind == COUNTRY else 100,
                        required=False,
                        initial=rule.value if rule else "",
                    )
                points = _points(required=False)
                points.initial = rule.points if rule else None
                self.fields[f"{kind}__{i}__points"] = points
        if not editable:
            for field in self.fields.values():
                field.disabled = True

    def _posted_rows(self, kind: str) -> int:
        indexes = [int(key.split("__")[1]) for key in self.data if key.startswith(f"{kind}__") and key.count("__") == 2]
        return min(max(indexes, default=-1) + 1, 200)

    # --- what the template lays out --------------------------------------------------------

    def fixed_rows(self, kind: str) -> list[tuple[str, forms.BoundField, forms.BoundField | None]]:
        return [
            (
                label,
                self[f"{kind}__{value}__points"],
                self[f"{kind}__{value}__half_life"] if kind == TOUCH else None,
            )
            for value, label in self.fixed[kind]
        ]

    def free_rows(self, kind: str) -> list[list[forms.BoundField]]:
        names = ("min", "max", "points") if kind == EMPLOYEES else ("value", "points")
        return [[self[f"{kind}__{i}__{name}"] for name in names] for i in range(self.free_counts[kind])]

    # --- the rules it holds --------------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        for kind in FREE_KINDS:
            for i in range(self.free_counts.get(kind, 0)):
                points = cleaned.get(f"{kind}__{i}__points")
                given = (
                    [cleaned.get(f"{kind}__{i}__min"), cleaned.get(f"{kind}__{i}__max")]
                    if kind == EMPLOYEES
                    else [cleaned.get(f"{kind}__{i}__value")]
                )
                if points is None and any(v not in (None, "") for v in given):
                    self.add_error(f"{kind}__{i}__points", _("Give the points of this rule, or clear the row."))
                elif points is not None and all(v in (None, "") for v in given):
                    first = f"{kind}__{i}__min" if kind == EMPLOYEES else f"{kind}__{i}__value"
                    self.add_error(first, _("Say what this rule matches, or clear the row."))
        return cleaned

    def rules(self) -> list[Rule]:
        data = self.cleaned_data
        rules = []
        for kind, choices in self.fixed.items():
            for value, _label in choices:
                points = data.get(f"{kind}__{value}__points") or 0
                half_life = data.get(f"{kind}__{value}__half_life") if kind == TOUCH else None
                rules.append(Rule(kind=kind, value=value, points=points, half_life_days=half_life or None))
        for kind in FREE_KINDS:
            for i in range(self.free_counts[kind]):
                points = data.get(f"{kind}__{i}__points")
                if points is None:
                    continue
                if kind == EMPLOYEES:
                    rules.append(
                        Rule(
                            kind=kind,
                            points=points,
                            min_employees=data.get(f"{kind}__{i}__min"),
                            max_employees=data.get(f"{kind}__{i}__max"),
                        )
                    )
                else:
                    rules.append(Rule(kind=kind, value=(data.get(f"{kind}__{i}__value") or "").strip(), points=points))
        return rules

    def signature(self) -> str:
        """What was reviewed: the rules and the threshold, as a short digest."""
        content = json.dumps(
            [self.cleaned_data["mql_threshold"], sorted(map(repr, self.rules()))], ensure_ascii=False
        ).encode()
        return hashlib.sha256(content).hexdigest()[:32]
