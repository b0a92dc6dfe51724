"""Every list's pagination: one page-size cap, one check of the page asked for, and a paginator
whose deep pages stay as fast as the first one on tables of millions of rows.

Every list view pages through ListPaginationMixin: `?per_page=` is kept between 1 and
MAX_PER_PAGE, and a `?page=` that is not a page number that can exist is a 404.

An OFFSET makes the database compute every column, and every correlated subquery such as a
mailbox's quota usage, of every skipped row. Past the first pages this paginator therefore
fetches only the page's primary keys (an index-only scan), then the full rows, with their
annotations, of just those keys.

A page past the middle of a known total reads from the end instead: its keys come in the
reversed order, counted from the last row, so a page costs what the rows before it or the rows
after it cost, whichever are fewer, and the last page is as fast as the first.

The querysets the lists hand over speak a small protocol (ListQuerySet): their scope, whether
they hold more rows than they show, and a cheaper way to a page's keys where they know one.
The measurements behind these rules are in bench/RESULTS.md ("Why the list queries look like
this").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import Q, QuerySet
from django.db.models.query import ModelIterable
from django.db.models.sql.where import WhereNode
from django.http import Http404
from django.utils.translation import gettext as _
from django_tables2 import LazyPaginator, RequestConfig, SingleTableMixin
from django_tables2.tables import Table

from accounts.scoping import ListScope

# Shallower pages are sliced directly: the two-step fetch only pays off past a few pages.
DEFERRED_FROM_ROW = 500

# However many rows per page a query string asks for, a page never holds more: every row of a
# page costs its annotations (usage, counts) and its HTML within one request.
MAX_PER_PAGE = 500

# A page whose first row lies past this one cannot exist: no list here holds two billion rows,
# and an offset past 2**63 is refused by PostgreSQL (bigint) and by MariaDB's parser.
MAX_FIRST_ROW = 2**31

# Whole numbers only: int() would also take " 7", "+7", "7_0" and other scripts' digits.
_NUMBER = re.compile(r"[0-9]{1,18}")


def page_size(value: str | None) -> int:
    """Return the rows per page `?per_page=` asks for, within 1..MAX_PER_PAGE.

    Anything but a whole number gives the configured page size.
    """
    default = max(1, min(settings.VIMBADMIN_LIST_PAGE_SIZE, MAX_PER_PAGE))
    if value is None or not _NUMBER.fullmatch(value):
        return default
    return max(1, min(int(value), MAX_PER_PAGE))


def page_number(value: str | None, per_page: int) -> int:
    """Return the page `?page=` asks for (1 when absent); a page that cannot exist is a 404.

    A page past the end of a list is not refused here: the list shows its last page, as
    django-tables2 does. Refused are numbers that are no page at all ("abc", "-1", "0") and
    pages starting past MAX_FIRST_ROW, whose offset would overflow the database's integers.
    """
    if value is None or value == "":
        return 1
    if not _NUMBER.fullmatch(value):
        raise Http404(_("There is no such page."))
    number = int(value)
    if number < 1 or (number - 1) * per_page >= MAX_FIRST_ROW:
        raise Http404(_("There is no such page."))
    return number


class ListPaginationMixin(SingleTableMixin):
    """Sort and paginate a list view's table, with the page size capped and the page checked.

    `paginator_class` is the list's paginator: Django's for small lists, DeferredPaginator for
    the mailbox and alias lists, DeferredLazyPaginator for the log (never counted).
    """

    paginator_class: type[Paginator] = Paginator

    def get_table(self, **kwargs: Any) -> Table:
        table = self.get_table_class()(data=self.get_table_data(), **kwargs)
        # The sort order from the query string; the page and its size are read below instead.
        RequestConfig(self.request, paginate=False).configure(table)
        per_page = page_size(self.request.GET.get(table.prefixed_per_page_field))
        number = page_number(self.request.GET.get(table.prefixed_page_field), per_page)
        try:
            table.paginate(paginator_class=self.paginator_class, per_page=per_page, page=number)
        except EmptyPage:
            # Past the end: the last page (the first for a lazy paginator that never counts).
            table.page = table.paginator.page(table.paginator.num_pages or 1)
        return table


def _queryset_of(object_list: Any) -> QuerySet | None:
    """Return the model queryset behind a queryset or a django-tables2 BoundRows, else None."""
    data = object_list
    for _depth in range(2):
        if isinstance(data, QuerySet):
            break
        data = getattr(data, "data", None)
    if (
        isinstance(data, QuerySet)
        and data._iterable_class is ModelIterable
        and not data.query.distinct
    ):
        return data
    return None


def list_queryset(object_list: Any) -> ListQuerySet | None:
    """Return the ListQuerySet behind a queryset, a table's data or its rows, else None."""
    data = object_list
    for _depth in range(3):
        if isinstance(data, QuerySet):
            break
        data = getattr(data, "data", None)
    return data if isinstance(data, ListQuerySet) else None


def by_keys(queryset: QuerySet, keys: Any, *, condition: Any = None) -> QuerySet:
    """Return the queryset's rows with these keys (a list or a subquery), in its order, with its
    annotations.

    `condition` is how the keys are looked up when not as `pk IN (keys)`. A queryset that names
    its scope (a ListQuerySet's `scope`) is looked up by the keys alone: its own conditions chose
    them, and a database given both may walk the conditions' index instead of looking the keys
    up. The scope stays in force all the same: the rows read are checked
    against its literal domain names (OutOfScope for any other), and where the scope has no
    literal names but a subquery, the subquery stays in the query. Any other queryset keeps all
    its conditions.
    """
    lookup = condition if condition is not None else Q(pk__in=keys)
    scope = queryset.scope if isinstance(queryset, ListQuerySet) else None
    if scope is None:
        return queryset.filter(lookup)
    rows = queryset.all()
    rows.query.where = WhereNode()
    rows = rows.filter(lookup)
    if scope.names is None and not scope.everything:
        return rows.filter(domain__in=scope.domains().values("domain"))
    rows._checked_by = scope
    return rows


def _rows_of(object_list: Any, rows: QuerySet) -> Any:
    """Return the page's rows as the paginated object list holds them (a table's BoundRows)."""
    if isinstance(object_list, QuerySet):
        return rows
    from django_tables2.rows import BoundRows

    return BoundRows(data=rows, table=object_list.table, pinned_data=object_list.pinned_data)


def _unique_order(queryset: QuerySet) -> tuple[str, ...] | None:
    """Return the queryset's ordering when it ends with the primary key or another unique key
    (a total order), else None.

    Only such an ordering reads the same rows backwards: with ties (a sort by name alone) the
    database may order equal rows differently in each direction.
    """
    order = tuple(queryset.query.order_by)
    if not order or not queryset.query.standard_ordering:
        return None
    if not all(isinstance(item, str) for item in order):
        return None
    last = order[-1].removeprefix("-")
    unique = queryset.unique_key if isinstance(queryset, ListQuerySet) else None
    return order if last in ("pk", queryset.model._meta.pk.name, unique) else None


def _reversed(queryset: QuerySet, order: tuple[str, ...]) -> QuerySet:
    """Return the queryset ordered the other way round (each ordering item flipped).

    Spelled out rather than with reverse(), so that the reversed queryset's order_by names its
    real order for whatever reads it (a page_keys() hook).
    """
    flipped = [item.removeprefix("-") if item.startswith("-") else f"-{item}" for item in order]
    return queryset.order_by(*flipped)


class DeferredPaginator(Paginator):
    """Fetch a deep page's keys first, then only those rows (annotations run for one page).

    A page past the middle of the list fetches its keys from the end: the queryset in the
    reversed order, sliced at the same rows counted from the last one, the keys then put back
    in the list's order (see page()).
    """

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        queryset = _queryset_of(self.object_list)
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = self._keys_from_end(queryset, bottom, top)
        if keys is None and isinstance(queryset, ListQuerySet):
            # A list may know a cheaper way to its page's keys than its SQL (the alias list).
            keys = queryset.page_keys(bottom, top)
        if keys is None:
            if bottom < DEFERRED_FROM_ROW or queryset is None:
                return super().page(number)
            keys = list(queryset.values_list("pk", flat=True)[bottom:top])
        # The same ordering, so the page's rows come back in the order their keys were chosen.
        return self._get_page(_rows_of(self.object_list, by_keys(queryset, keys)), number, self)

    def _keys_from_end(self, queryset: QuerySet | None, bottom: int, top: int) -> list | None:
        """Return the keys of rows bottom..top read from the end, or None to read from the start.

        An OFFSET walks every index entry it skips; the same rows are the first ones of the
        reversed order. Used where that skips fewer rows and the start would skip at least
        DEFERRED_FROM_ROW, for querysets ordered by a unique key (see _unique_order) whose
        count() covers all their rows (not a search showing only its first matches, see
        ListQuerySet.holds_more).

        With a kept total (RuleCountedQuerySet) that is off by d rows because other tools
        wrote since the last recount, the pages read from the end are shifted by d against
        the ones read from the start, until the next recount: d rows around the middle are
        then on no page (total too low) or on two (too high). The last page always shows the
        true last rows (read from the start, it was empty when the total was too high), and no
        page is empty while the real total is more than half the kept one.
        """
        total = self.count
        if queryset is None or bottom < DEFERRED_FROM_ROW or total - top >= bottom:
            return None
        if isinstance(queryset, ListQuerySet) and queryset.holds_more:
            return None
        order = _unique_order(queryset)
        if order is None:
            return None
        backwards = _reversed(queryset, order)
        start, stop = total - top, total - bottom
        keys = backwards.page_keys(start, stop) if isinstance(backwards, ListQuerySet) else None
        if keys is None:
            keys = list(backwards.values_list("pk", flat=True)[start:stop])
        keys.reverse()
        return keys


class DeferredLazyPaginator(LazyPaginator):
    """django-tables2's LazyPaginator (no COUNT of the whole table) with deferred deep pages.

    For the log: an OFFSET over full rows reads every skipped row through the clustered index;
    the keys alone come from the (timestamp) or (domain, timestamp) index, which InnoDB and
    PostgreSQL both scan without the rows.
    """

    def page(self, number: Any) -> Page:
        number = self.validate_number(number or 1)
        bottom = (number - 1) * self.per_page
        queryset = _queryset_of(self.object_list)
        if bottom < DEFERRED_FROM_ROW or queryset is None:
            return super().page(number)
        top = bottom + self.per_page
        look_ahead_items = (self.look_ahead - 1) * self.per_page + 1
        keys = list(
            queryset.values_list("pk", flat=True)[bottom : top + self.orphans + look_ahead_items]
        )
        if len(keys) > self.per_page + self.orphans:
            self._num_pages = number + (len(keys) // self.per_page)
            keys = keys[: self.per_page]
        elif len(keys) <= self.orphans:
            raise EmptyPage(_("That page contains no results"))
        else:
            self._num_pages = self._final_num_pages = number
        return Page(list(_rows_of(self.object_list, by_keys(queryset, keys))), number, self)


class ListQuerySet(QuerySet):
    """A list's queryset as the paginators read it: the key-page protocol.

    A list's selector returns one (of() turns any queryset into one). The paginators and the
    list views ask these of it, and of no other queryset:

    - `scope`: the accounts.scoping.ListScope its rows lie within. Rows fetched by key
      (by_keys) are then looked up by their keys alone and checked against the scope.
    - `holds_more`: True when it holds rows past its count() that the list never shows (a
      search shows its first matches only); such a list is never read from the end.
    - `capped`: True when count() found more rows than the list shows; the page says so.
    - `page_keys(bottom, top)`: the keys of rows bottom..top in its order, when it knows a
      cheaper way to them than its own SQL; None lets the paginator slice the query.
    - `keys_after(key, after, size, descending)`: the same for a keyset page (the API, CSV
      export): up to `size` keys following `after` in `key` order, or None.
    - `unique_key`: a column or annotation besides the primary key whose value is unique per row
      (a domain's sort key), so that an order ending with it reads the same rows backwards.

    Facts (the attributes named in FACTS: the scope, and what subclasses add) are kept through
    ordering, slicing and values(); any further filter forgets them, so a fact only ever
    answers for the rows it was made for.
    """

    FACTS: tuple[str, ...] = ("scope", "unique_key")
    scope: ListScope | None = None
    unique_key: str | None = None
    # Set on rows fetched by key (by_keys): the scope every row read must lie within.
    _checked_by: ListScope | None = None

    @property
    def holds_more(self) -> bool:
        """Tell whether the queryset holds rows past its count() that the list never shows."""
        return False

    @property
    def capped(self) -> bool:
        """Tell whether count() found more rows than the list shows."""
        return False

    def page_keys(self, bottom: int, top: int) -> list[Any] | None:
        """Return the keys of rows bottom..top in the queryset's order, or None to slice it."""
        return None

    def keys_after(self, key: str, after: Any, size: int, descending: bool) -> list[Any] | None:
        """Return up to `size` keys following `after` in `key` order, or None to query for them."""
        return None

    @classmethod
    def of(cls, queryset: QuerySet, **facts: Any) -> Any:
        """Return the queryset's rows as this class, with these facts."""
        listed = cls(model=queryset.model, query=queryset.query.chain(), using=queryset.db)
        for name, value in facts.items():
            setattr(listed, name, value)
        return listed

    def _clone(self) -> Any:
        clone = super()._clone()
        for name in self.FACTS:
            setattr(clone, name, getattr(self, name))
        clone._checked_by = self._checked_by
        return clone

    def _filter_or_exclude(self, negate: bool, args: Any, kwargs: Any) -> Any:
        clone = super()._filter_or_exclude(negate, args, kwargs)
        for name in self.FACTS:
            setattr(clone, name, None)
        return clone

    def _fetch_all(self) -> None:
        fresh = self._result_cache is None
        super()._fetch_all()
        if fresh and self._checked_by is not None and self._iterable_class is ModelIterable:
            column = self.model._meta.get_field("domain").attname
            self._checked_by.require(getattr(row, column) for row in self._result_cache or ())


# How many rows past a kept total the last page may show (see RuleCountedQuerySet).
LAST_PAGE_SLACK = 1000


class RuleCountedQuerySet(ListQuerySet):
    """A queryset whose count() comes from a cheaper rule than counting its rows.

    The rule (for instance the per-domain figures of domains.counters) costs the same for any
    size of domain, where COUNT(*) reads every index entry of the domain on every page view;
    like every fact of a ListQuerySet it is dropped when the queryset is filtered
    further. Its total can be off where other tools wrote the tables since the last recount.
    Read from the start, a page past the real end is then empty, and so that no row becomes
    unreachable when the total is too low, a slice ending exactly at that total (the last page)
    reaches up to LAST_PAGE_SLACK rows further and the last page shows them. A deep page past
    the middle is read from the end instead (DeferredPaginator): the last page shows the true
    last rows, and the pages read from the end are shifted by the error until the next recount.
    """

    FACTS = (*ListQuerySet.FACTS, "_count_rule", "_counted")
    _count_rule: Callable[[], int | None] | None = None
    _counted: int | None = None

    def count(self) -> int:
        if self._count_rule is None or self._result_cache is not None or self.query.is_sliced:
            return super().count()
        counted = self._count_rule()
        if counted is None:
            return super().count()
        self._counted = counted
        return counted

    def __getitem__(self, key: Any) -> Any:
        if (
            isinstance(key, slice)
            and self._counted is not None
            and key.stop == self._counted
            and not self.query.is_sliced
        ):
            key = slice(key.start, key.stop + LAST_PAGE_SLACK, key.step)
        return super().__getitem__(key)


def counted_by(
    queryset: QuerySet, rule: Callable[[], int | None], *, scope: ListScope | None
) -> RuleCountedQuerySet:
    """Return the queryset with its count() answered by rule() (None: count the rows)."""
    return RuleCountedQuerySet.of(queryset, _count_rule=rule, scope=scope)


def keyset_page(
    queryset: QuerySet, *, key: str, after: Any = None, size: int, descending: bool = False
) -> tuple[list[Any], Any]:
    """Return up to `size` rows (capped at MAX_PER_PAGE) following the key `after` in key order,
    and the key to continue from (None after the last row).

    For the API: a page costs the same at any depth, as the rows are found by the key's index
    instead of counted past; the queryset's own conditions (scope, search) stay in force.
    """
    size = max(1, min(size, MAX_PER_PAGE))
    rows = queryset.order_by(f"-{key}" if descending else key)
    # A list may know a cheaper way to the keys than its SQL (the alias list on MariaDB).
    keys = (
        rows.keys_after(key, after, size + 1, descending)
        if isinstance(rows, ListQuerySet)
        else None
    )
    if keys is not None:
        found = list(by_keys(rows, keys)) if keys else []
    else:
        if after is not None:
            rows = rows.filter(**{f"{key}__{'lt' if descending else 'gt'}": after})
        found = list(rows[: size + 1])
    if len(found) <= size:
        return found, None
    found = found[:size]
    return found, getattr(found[-1], key)
