"""Fast rendering of django-tables2 table bodies and the cells every list shares."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import lru_cache
from types import MethodType
from typing import Any, TypeVar
from urllib.parse import quote

from django.db import models
from django.middleware.csrf import get_token
from django.template.base import render_value_in_context
from django.template.context import Context
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.dateformat import DateFormat, re_escaped, re_formatchars
from django.utils.formats import get_format, localize
from django.utils.html import format_html
from django.utils.http import RFC3986_SUBDELIMS, urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext, gettext_lazy
from django_tables2.columns.base import Column
from django_tables2.columns.datecolumn import DateColumn
from django_tables2.columns.datetimecolumn import DateTimeColumn
from django_tables2.columns.linkcolumn import BaseLinkColumn
from django_tables2.columns.manytomanycolumn import ManyToManyColumn
from django_tables2.templatetags.django_tables2 import table_page_range
from django_tables2.utils import A, signature

from mail.names import to_unicode

_MISSING = object()
_T = TypeVar("_T")
# DateColumn and DateTimeColumn render the template '{{ value|date:"FORMAT"|default:default }}'.
_DATE_TEMPLATE = re.compile(r'^\{\{ value\|date:"([^"]*)"\|default:default \}\}$')


def escape(text: str) -> str:
    """Return text HTML-escaped exactly as Django's escape() does, as a plain string."""
    return html.escape(text)


@lru_cache(maxsize=4096)
def display_domain(name: str) -> str:
    """Return a stored domain name for display, in Unicode.

    The IDNA decode costs tens of microseconds and a list page shows the same few domains on
    every row, so the answers are kept (they depend on the name alone).
    """
    return to_unicode(name)


def display_address(address: str) -> str:
    """Return a stored address for display, with its domain in Unicode."""
    local, sep, domain = address.rpartition("@")
    return f"{local}{sep}{display_domain(domain)}" if sep else address


def per_table(table: Any, key: str, make: Callable[[], _T]) -> _T:
    """Return make(), computed once per table: translated labels, URL parts, the CSRF token.

    A table lives for one request, so what depends on the request or its language is safe
    to keep on it.
    """
    cache = getattr(table, "_vimbadmin_cache", None)
    if cache is None:
        cache = table._vimbadmin_cache = {}
    try:
        return cache[key]
    except KeyError:
        value = cache[key] = make()
        return value


def _request_state(table: Any) -> tuple[str, str]:
    """Return the CSRF token and the current path of a table's request, computed once."""
    return per_table(
        table, "request", lambda: (get_token(table.request), table.request.get_full_path())
    )


_PLACEHOLDER = "vimbadmin-row-key"
# Django's reverse() quotes the substituted URL with these characters kept as they are.
_URL_SAFE = RFC3986_SUBDELIMS + "/~:@"


def _url_parts(name: str) -> tuple[str, ...]:
    url = reverse(name, args=[_PLACEHOLDER])
    return tuple(url.split(_PLACEHOLDER)) if url.count(_PLACEHOLDER) == 1 else ()


def row_url(table: Any, name: str, key: str) -> str:
    """Return reverse(name, args=[key]) for a row, resolving the URL pattern once per table.

    A 50-row list reverses a few URLs per row; resolving the pattern once and quoting
    the key as reverse() does gives the same URL for a fraction of the time.
    """
    parts = per_table(table, "url:" + name, lambda: _url_parts(name))
    if len(parts) != 2 or "/" in key or not key:
        # A key the <str:> converter would refuse: let reverse() decide.
        return reverse(name, args=[key])
    return parts[0] + _quote_key(key) + parts[1]


@lru_cache(maxsize=1024)
def _quote_key(key: str) -> str:
    # A row's key goes into several of its URLs (edit, toggle, delete...).
    return quote(key, safe=_URL_SAFE)


def _state_and_action(active: bool) -> tuple[str, str]:
    """Return the state badge and the start of the button that changes it (named by action)."""
    badge = str(active_badge(active))
    if active:
        button = '<button type="submit" class="btn btn-sm btn-outline-secondary">'
        return badge, button + escape(gettext("Deactivate"))
    button = '<button type="submit" class="btn btn-sm btn-outline-success">'
    return badge, button + escape(gettext("Activate"))


def _toggle_parts(table: Any, active: bool) -> tuple[str, str]:
    """Return the toggle form after its action URL up to the object's name, and its end."""
    token, path = _request_state(table)
    badge, button = _state_and_action(active)
    head = (
        '" class="d-inline">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">\n'
        f'  <input type="hidden" name="active" value="{"0" if active else "1"}">\n'
        f'  <input type="hidden" name="next" value="{escape(path)}">\n'
        f'  {badge}\n  {button}<span class="visually-hidden"> '
    )
    return head, "</span></button>\n</form>"


def toggle_form(table: Any, url: str, active: bool, name: str = "") -> SafeString:
    """Render a row's activate/deactivate form (POST with CSRF, back to the list).

    The state shows as a badge; the button is named by what it does and to what
    ("Deactivate anna@example.org"), the object's name being read by screen readers only.
    """
    head, tail = per_table(table, f"toggle:{active}", lambda: _toggle_parts(table, active))
    return mark_safe(  # noqa: S308 - escaped
        f'<form method="post" action="{escape(url)}{head}{escape(name)}{tail}'
    )


def state_and_link(table: Any, url: str, active: bool, name: str) -> SafeString:
    """Render the state badge and a link (GET) to a page that asks before changing it.

    The link carries the list's own URL as `next`, so the answer leads back to it.
    """
    badge, button, query = per_table(
        table,
        f"state-link:{active}",
        lambda: (*_state_and_action(active), "?" + urlencode({"next": _request_state(table)[1]})),
    )
    link = button.replace('<button type="submit"', f'<a href="{escape(url + query)}"', 1)
    return mark_safe(  # noqa: S308 - escaped
        f'{badge}\n{link}<span class="visually-hidden"> {escape(name)}</span></a>'
    )


def action_buttons(
    table: Any, key: str, buttons: tuple[tuple[str, Any, str], ...], name: str = ""
) -> SafeString:
    """Render a row's small group of links: (URL name, label, Bootstrap colour) per button.

    The translated labels are made once per table; each URL is the row's key in its pattern.
    With a name, each link is named for screen readers by label and object ("Edit anna@...").
    """
    labels = per_table(
        table,
        "actions:" + ",".join(name for name, _label, _colour in buttons),
        lambda: [escape(gettext("Actions"))] + [escape(str(label)) for _n, label, _c in buttons],
    )
    named = f" {escape(name)}" if name else ""
    links = "".join(
        f'  <a class="btn btn-outline-{colour}"'
        + (f' aria-label="{label}{named}"' if named else "")
        + f' href="{escape(row_url(table, url, key))}">{label}</a>\n'
        for (url, _label, colour), label in zip(buttons, labels[1:], strict=True)
    )
    return mark_safe(  # noqa: S308 - labels and URLs are escaped
        f'<div class="btn-group btn-group-sm" role="group" aria-label="{labels[0]}">\n{links}</div>'
    )


# The id of a list's bulk action bar (bulk/templatetags/bulk.py): each row's box names it with
# form=, so the boxes need no form around the table (whose rows hold their own toggle forms).
BULK_FORM_ID = "bulk-list-form"


class SelectColumn(Column):
    """A box per row to choose it for the list's bulk actions; the header's box chooses every
    row of the page. Works without a script: each row also sends its key as `page_key`, which
    the bulk page reads when the page's box is ticked (static/js/vimbadmin.js ticks the rows)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("verbose_name", gettext_lazy("Select"))
        kwargs.setdefault("attrs", {"th": {"class": "bulk-select"}, "td": {"class": "bulk-select"}})
        super().__init__(orderable=False, empty_values=(), **kwargs)

    @property
    def header(self) -> SafeString:
        label = escape(gettext("Select all on this page"))
        return mark_safe(  # noqa: S308 - escaped
            f'<input class="form-check-input" type="checkbox" name="all_on_page" value="1" '
            f'form="{BULK_FORM_ID}" data-vimb-select-page aria-label="{label}">'
        )


def select_box(table: Any, key: str, name: str) -> SafeString:
    """Render a row's box for the bulk actions, named for screen readers ("Select anna@...")."""
    label = per_table(table, "select", lambda: gettext("Select %(name)s"))
    value = escape(key)
    return mark_safe(  # noqa: S308 - escaped
        f'<input class="form-check-input" type="checkbox" name="key" value="{value}" '
        f'form="{BULK_FORM_ID}" aria-label="{escape(label % {"name": name})}">'
        f'<input type="hidden" name="page_key" value="{value}" form="{BULK_FORM_ID}">'
    )


def active_badge(active: bool, title: str | None = None) -> SafeString:
    """Render a read-only Active/Inactive badge."""
    css = "text-bg-success" if active else "text-bg-secondary"
    label = gettext("Active") if active else gettext("Inactive")
    if title:
        return format_html('<span class="badge {}" title="{}">{}</span>', css, title, label)
    return format_html('<span class="badge {}">{}</span>', css, label)


# DateFormat methods that read the time zone (set up by DateFormat's costly constructor).
_ZONE_FORMAT_CHARS = frozenset("eIOrTZ")


@lru_cache(maxsize=512)
def _method_signature(function: Callable[..., Any]) -> tuple[tuple[str, ...], Any]:
    # Bound to a stand-in: a signature does not depend on the instance.
    args, kwargs_name = signature(MethodType(function, _MISSING))
    return tuple(args), kwargs_name


def _signature(render: Any) -> tuple[tuple[str, ...], Any]:
    """Return django-tables2's signature() of a render function, inspected once per method.

    A table's render_FOO methods are bound anew for every request's table.
    """
    if isinstance(render, MethodType):
        return _method_signature(render.__func__)
    args, kwargs_name = signature(render)
    return tuple(args), kwargs_name


class DateCells:
    """Format cells as '{{ value|date:FORMAT|default:default }}' does, parsing FORMAT once.

    Django's date filter splits the format string and works out the value's time zone on
    every call; with the format parsed once per page and DateFormat's own methods called
    directly, a page of dates costs a fraction of that. Formats that show the time zone
    keep the date filter.
    """

    def __init__(self, format_name: str, default: Any) -> None:
        self.format_name = format_name
        self.default = default
        pieces: list[tuple[Callable[[Any], Any] | None, str]] = []
        self.fast = True
        for i, piece in enumerate(re_formatchars.split(str(get_format(format_name)))):
            if i % 2:
                pieces.append((getattr(DateFormat, piece), ""))
                self.fast = self.fast and piece not in _ZONE_FORMAT_CHARS
            elif piece:
                pieces.append((None, re_escaped.sub(r"\1", piece)))
        self.pieces = pieces

    def __call__(self, value: Any) -> Any:
        value = template_localtime(value)
        if self.fast and type(value) is datetime:
            formatter = DateFormat.__new__(DateFormat)
            formatter.data = value
            formatter.timezone = None
            text = "".join(
                text if method is None else str(method(formatter)) for method, text in self.pieces
            )
        else:
            text = date_filter(value, self.format_name)
        return text or self.default


class _FastColumn:
    """What one column needs to render its cells, worked out once per page instead of per cell."""

    def __init__(self, table: Any, bound_column: Any, model: type[models.Model] | None) -> None:
        self.bound_column = bound_column
        self.column = bound_column.column
        self.name = bound_column.name
        self.render = bound_column.render
        self.link = bound_column.link
        self.default = bound_column.default
        self.empty_values = self.column.empty_values
        self.localize = self.column.localize
        date_format = self._date_format()
        if date_format is not None:
            self.render = DateCells(date_format, self.default)
        args, kwargs_name = _signature(self.render)
        self.wants_all = bool(kwargs_name)
        self.args = () if self.wants_all else tuple(args)
        attrs = bound_column.attrs
        td = attrs.get("td", {})
        self.td_html = td.as_html() if td else ""
        accessor = str(bound_column.accessor)
        self.attribute = accessor if accessor.isidentifier() else None
        self.accessor = A(accessor)
        # Columns whose value Django would show through get_FOO_display(), link columns
        # with a fixed text and many-to-many columns keep django-tables2's own code path.
        self.generic = isinstance(self.column, ManyToManyColumn | BaseLinkColumn)
        if model is not None and self.attribute is not None:
            try:
                field = model._meta.get_field(self.attribute)
            except Exception:
                field = None
            if field is not None and getattr(field, "choices", None):
                self.generic = True

    def _date_format(self) -> str | None:
        """Return the date format of a date(time) column that its table does not re-render."""
        if not isinstance(self.column, DateColumn | DateTimeColumn):
            return None
        if getattr(self.render, "__self__", None) is not self.column:
            return None
        match = _DATE_TEMPLATE.match(self.column.template_code or "")
        return match.group(1) if match else None

    def value(self, record: Any) -> Any:
        if self.attribute is not None:
            value = getattr(record, self.attribute, _MISSING)
            if value is not _MISSING and not callable(value):
                return value
        try:
            return self.accessor.resolve(record)
        except Exception:
            return None


def _cell_text(value: Any, localize: bool | None, context: Context) -> str:
    """Format a cell value as the {{ cell }} of django-tables2's template would."""
    # Text, the common case, is never localized: escaped unless marked safe.
    kind = type(value)
    if kind is SafeString:
        return value
    if kind is str:
        return html.escape(value)
    if localize is None:
        return render_value_in_context(value, context)
    context.use_l10n = localize
    try:
        return render_value_in_context(value, context)
    finally:
        context.use_l10n = None


def _render_cells(table: Any, row: Any, columns: list[_FastColumn], context: Context) -> str:
    record = row.record
    cells = []
    for col in columns:
        if col.generic:
            content = row.get_cell(col.name)
        else:
            value = col.value(record)
            if value in col.empty_values:
                content = col.default
            elif col.args == ("value",) and not col.link:
                content = col.render(value=value)
            elif col.args == ("record",) and not col.link:
                content = col.render(record=record)
            else:
                available = {
                    "value": value,
                    "record": record,
                    "column": col.column,
                    "bound_column": col.bound_column,
                    "bound_row": row,
                    "table": table,
                }
                if col.wants_all:
                    content = col.render(**available)
                else:
                    content = col.render(**{name: available[name] for name in col.args})
                if col.link:
                    content = col.link(content, **available)
        cells.append(
            f"<td {col.td_html}>{_cell_text(content, col.localize, context)}</td>"
            if col.td_html
            else f"<td>{_cell_text(content, col.localize, context)}</td>"
        )
    return "".join(cells)


def _rows(table: Any) -> Iterator[str]:
    model = getattr(table._meta, "model", None)
    columns = [_FastColumn(table, bc, model) for bc in table.columns]
    context = Context(autoescape=True)
    row_attrs: Callable[[Any], str] | None = None
    if table.row_attrs:
        row_attrs = lambda row: row.attrs.as_html()  # noqa: E731
    for row in table.paginated_rows:
        attrs = row_attrs(row) if row_attrs else f'class="{row.get_even_odd_css_class()}"'
        yield f"<tr {attrs}>{_render_cells(table, row, columns, context)}</tr>\n"


def render_rows(table: Any) -> SafeString:
    """Render the <tr> rows of a table's page with the cells django-tables2 would produce.

    django-tables2's template renders each cell through several template tags, an attribute
    lookup and a signature inspection; this does the per-column work once per page.
    """
    return mark_safe("".join(_rows(table)))  # noqa: S308 - every cell is escaped above


def _querystring(params: dict[str, Any], key: str, value: Any) -> str:
    """Return '?...' with one parameter replaced, as {% querystring_replace %} writes it."""
    return escape("?" + urlencode({**params, key: value}, doseq=True))


def _html_of(attrs: Any) -> str:
    """Return {{ attrs.as_html }} as the template shows it: empty when there is no such method."""
    as_html = getattr(attrs, "as_html", None)
    return as_html() if callable(as_html) else ""


def render_head(table: Any) -> SafeString:
    """Render the <thead> of django-tables2's Bootstrap 5 template: sort links on every header.

    The template runs a {% querystring_replace %} tag and an attribute lookup chain per column;
    this reads the request's query once.
    """
    context = Context(autoescape=True)
    params = dict(table.request.GET)
    field = table.prefixed_order_by_field
    cells = []
    for column in table.columns:
        th_attrs = column.attrs.get("th")
        th = _html_of(th_attrs)
        header = _cell_text(column.header, None, context)
        if column.orderable:
            href = _querystring(params, field, column.order_by_alias.next)
            header = f'<a href="{href}">{header}</a>'
            # The sorted column says so to screen readers (the arrow is CSS, unread).
            classes = str((th_attrs or {}).get("class", "")).split()
            if "asc" in classes:
                th += ' aria-sort="ascending"'
            elif "desc" in classes:
                th += ' aria-sort="descending"'
        cells.append(f'<th {th} scope="col">{header}</th>\n')
    thead = _html_of(table.attrs.get("thead"))
    return mark_safe(f"<thead {thead}>\n<tr>\n{''.join(cells)}</tr>\n</thead>")  # noqa: S308


def render_pagination(table: Any) -> SafeString:
    """Render the page links of django-tables2's Bootstrap 5 template (nothing for one page).

    The template runs a {% querystring_replace %} tag per link; this reads the query once.
    """
    page = getattr(table, "page", None)
    if not page or table.paginator.num_pages <= 1:
        return mark_safe("")
    params = dict(table.request.GET)
    field = table.prefixed_page_field
    items = []
    if page.has_previous():
        href = _querystring(params, field, page.previous_page_number())
        items.append(
            f'<li class="previous page-item"><a href="{href}" class="page-link">'
            f'<span aria-hidden="true">&laquo;</span> {escape(gettext("previous"))}</a></li>'
        )
    if page.has_previous() or page.has_next():
        for number in table_page_range(page, table.paginator):
            active = " active" if page.number == number else ""
            href = "" if number == "..." else f'href="{_querystring(params, field, number)}"'
            items.append(
                f'<li class="page-item{active}"><a class="page-link" {href}>'
                f"{escape(str(localize(number)))}</a></li>"
            )
    if page.has_next():
        href = _querystring(params, field, page.next_page_number())
        items.append(
            f'<li class="next page-item"><a href="{href}" class="page-link">'
            f'{escape(gettext("next"))} <span aria-hidden="true">&raquo;</span></a></li>'
        )
    items_html = "\n".join(items)
    return mark_safe(  # noqa: S308 - every part is escaped above
        '<nav aria-label="Table navigation">\n<ul class="pagination justify-content-center">\n'
        f"{items_html}\n</ul>\n</nav>"
    )
