"""The project's form renderer writes the same widget markup as Django's template renderer."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from core.renderers import FastWidgetRenderer

pytestmark = pytest.mark.django_db

TRICKY = "a \"quoted\" <b>&amp;</b> 'value'"


class EveryWidget(forms.Form):
    text = forms.CharField(widget=forms.TextInput(attrs={"class": "form-control", "data-x": 3}))
    search = forms.CharField(
        widget=forms.TextInput(attrs={"type": "search", "autofocus": True, "hidden": False})
    )
    email = forms.EmailField(required=False, label=gettext_lazy("E-mail"))
    number = forms.IntegerField(widget=forms.NumberInput(attrs={"min": 0, "step": 1.5}))
    password = forms.CharField(widget=forms.PasswordInput(render_value=True))
    hidden = forms.CharField(widget=forms.HiddenInput)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    when = forms.DateTimeField(required=False)
    agree = forms.BooleanField(required=False)
    url = forms.URLField(required=False, assume_scheme="https")
    upload = forms.FileField(required=False)
    choice = forms.ChoiceField(
        choices=[("", "All"), ("a", TRICKY), (3, 4), ("safe", mark_safe("<i>ok</i>"))],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    grouped = forms.ChoiceField(
        choices=[("", "---"), ("Group <1>", [("x", "X"), ("y", "Y")]), ("z", "Z")]
    )
    many = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B"), ("c", "C")])
    notes = forms.CharField(widget=forms.Textarea)
    radio = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)


DATA_SETS = [
    {},
    {
        "text": TRICKY,
        "search": "x",
        "email": "a@b.example",
        "number": "7",
        "password": "s<e>cret",
        "hidden": mark_safe("<safe>"),
        "day": "2026-01-02",
        "when": "2026-01-02 03:04",
        "agree": "on",
        "url": "https://x.example/?a=1&b=2",
        "choice": "a",
        "grouped": "y",
        "many": ["a", "c"],
        "notes": TRICKY,
        "radio": "b",
    },
    {"number": "not a number", "choice": "3", "day": "bad", "agree": ""},
]


def render_all(form: forms.Form) -> list[str]:
    return [str(field) for field in form]


@pytest.mark.parametrize("data", DATA_SETS)
def test_every_widget_matches_djangos_renderer(data):
    initial = {"text": "init", "day": dt.date(2026, 5, 6), "choice": "safe", "agree": True}
    for bound in (True, False):
        kwargs = {"data": data} if bound else {"initial": initial}
        fast = render_all(EveryWidget(renderer=FastWidgetRenderer(), **kwargs))
        slow = render_all(EveryWidget(renderer=DjangoTemplates(), **kwargs))
        assert fast == slow


def test_the_project_uses_it_and_its_forms_render_the_same(client_a, super_client, settings):
    pages = [
        (super_client, "/mailboxes/?domain="),
        (super_client, "/mailboxes/new/"),
        (super_client, "/aliases/new/"),
        (super_client, "/domains/new/"),
        (super_client, "/log/?domain=&action=create_mailbox&date_from=2026-01-01"),
        (super_client, "/accounts/admins/new/"),
        (client_a, "/mailboxes/?domain=alpha.example&q=a"),
        (client_a, "/aliases/?show_mailbox_aliases=on"),
    ]

    def texts() -> list[str]:
        out = []
        for client, url in pages:
            response = client.get(url)
            assert response.status_code == 200, url
            text = response.content.decode()
            text = re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", text)
            # The suggested password is new on every page.
            out.append(re.sub(r'id="id_password-suggestion">[^<]*<', "", text))
        return out

    fast = texts()
    settings.FORM_RENDERER = "django.forms.renderers.DjangoTemplates"
    slow = texts()
    assert slow == fast
    assert any("<select" in text for text in fast)


def test_an_overridden_widget_template_keeps_its_template(tmp_path):
    folder = tmp_path / "django" / "forms" / "widgets"
    folder.mkdir(parents=True)
    (folder / "attrs.html").write_text(
        '{% for name, value in widget.attrs.items %} data-{{ name }}="{{ value }}"{% endfor %}'
    )

    class Renderer(FastWidgetRenderer):
        @property
        def engine(self):  # the app's own folder first, as an app's templates would be
            engine = super().engine
            engine.engine.dirs = [str(tmp_path), *engine.engine.dirs]
            return engine

    field = forms.CharField(widget=forms.TextInput(attrs={"class": "c"}))
    form = forms.Form(renderer=Renderer())
    form.fields["x"] = field

    assert 'data-class="c"' in str(form["x"])
