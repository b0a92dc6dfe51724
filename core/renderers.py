"""The form renderer: Django's own, with its plain input and select widgets written in Python."""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import django.forms
from django.forms.renderers import DjangoTemplates
from django.template.base import render_value_in_context
from django.template.context import Context
from django.utils.safestring import SafeData, SafeString

_WIDGETS = "django/forms/widgets/"
# Django's widget templates that are nothing but an include of input.html.
_INPUT_TEMPLATES = frozenset(
    f"{_WIDGETS}{name}.html"
    for name in (
        "checkbox",
        "color",
        "date",
        "datetime",
        "email",
        "file",
        "hidden",
        "number",
        "password",
        "search",
        "tel",
        "text",
        "time",
        "url",
    )
)
_SELECT = f"{_WIDGETS}select.html"
_OPTION = f"{_WIDGETS}select_option.html"
_DJANGO_TEMPLATES = Path(django.forms.__file__).resolve().parent / "templates"


def _text(value: Any) -> str:
    """Return {{ value }} as an autoescaping template shows it."""
    kind = type(value)
    if kind is SafeString:
        return value
    if kind is str:
        return html.escape(value)
    return render_value_in_context(value, Context(autoescape=True))


def _formatted(value: Any) -> str:
    """Return {{ value|stringformat:'s' }}: escaped unless the value is marked safe."""
    text = "%s" % (str(value) if isinstance(value, tuple) else value)
    return text if isinstance(value, SafeData) else html.escape(text)


def _attrs(attrs: dict[str, Any]) -> str:
    """Return django/forms/widgets/attrs.html: True is a bare name, False leaves it out."""
    parts = []
    for name, value in attrs.items():
        if value is True:
            parts.append(f" {_text(name)}")
        elif value is not False:
            parts.append(f' {_text(name)}="{_formatted(value)}"')
    return "".join(parts)


def _input(widget: dict[str, Any]) -> str:
    """Return django/forms/widgets/input.html."""
    value = widget["value"]
    shown = "" if value is None else f' value="{_formatted(value)}"'
    return (
        f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{shown}'
        f"{_attrs(widget['attrs'])}>"
    )


def _select(widget: dict[str, Any]) -> str | None:
    """Return django/forms/widgets/select.html, or None when an option has its own template."""
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            if option["template_name"] != _OPTION:
                return None
            parts.append(
                f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_text(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


class FastWidgetRenderer(DjangoTemplates):
    """Render forms as Django does, writing its input and select widgets directly.

    Through the template engine one widget costs 50-100 µs (input.html including attrs.html;
    select.html including one template per option), and every list page has a filter form.
    The markup is the same; widget templates that an app overrides keep their template.
    """

    @cached_property
    def _writers(self) -> dict[str, Callable[[dict[str, Any]], str | None]]:
        writers: dict[str, Callable[[dict[str, Any]], str | None]] = {}
        if self._is_djangos(f"{_WIDGETS}input.html", f"{_WIDGETS}attrs.html"):
            for name in _INPUT_TEMPLATES:
                if self._is_djangos(name):
                    writers[name] = _input
            if self._is_djangos(_SELECT, _OPTION):
                writers[_SELECT] = _select
        return writers

    def _is_djangos(self, *names: str) -> bool:
        """Tell whether the engine finds these templates in Django's own forms folder."""
        for name in names:
            origin = Path(self.get_template(name).origin.name).resolve()
            if not origin.is_relative_to(_DJANGO_TEMPLATES):
                return False
        return True

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        writer = self._writers.get(template_name)
        if writer is not None:
            text = writer(context["widget"])
            if text is not None:
                return text
        return super().render(template_name, context, request=request)
