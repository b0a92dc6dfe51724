"""The import pages: upload, the dry run's preview, apply.

The preview carries the uploaded file back (compressed) in its form, so nothing of it, and no
password in it, is kept on the server between the two steps; applying reads and plans it again.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import zlib
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from accounts.scoping import is_superadmin
from core.forms import StyledForm
from core.http import AuthedRequest
from core.views import AdminRequiredMixin
from csvimport.plan import ERROR, ImportPlan, plan_import
from csvimport.reader import REQUIRED, CsvRefused, max_bytes, read_csv
from csvimport.services import ImportFailed, csv_import_apply

# Rows listed on the preview besides every error row (the rest are counted).
SHOWN = 1000

LIST_URLS = {
    "domains": "domains:domain-list",
    "mailboxes": "mailboxes:mailbox-list",
    "aliases": "aliases:alias-list",
}
OPTIONAL = {
    "domains": "description, aliases, mailboxes, maxquota, quota, transport, backupmx, active",
    "mailboxes": "name, domain, quota_bytes, email_other, active, password",
    "aliases": "domain, active",
}


class UploadForm(StyledForm):
    """The CSV file to import."""

    file = forms.FileField(label=gettext_lazy("CSV file"))


def pack(data: bytes) -> str:
    """Return the file as the preview's form carries it."""
    return base64.b64encode(zlib.compress(data, 6)).decode("ascii")


def unpack(text: str) -> bytes:
    """Return the file the preview's form carried back (at most the import size limit)."""
    try:
        inflater = zlib.decompressobj()
        data = inflater.decompress(base64.b64decode(text, validate=True), max_bytes() + 1)
    except (binascii.Error, ValueError, zlib.error) as exc:
        raise CsvRefused(_("The form was damaged; upload the file again.")) from exc
    return data


class ImportView(AdminRequiredMixin, View):
    """Upload a CSV file, see what importing it would do, then apply it."""

    request: AuthedRequest
    kind = "mailboxes"  # set per URL: one of csvimport.reader.KINDS

    def context(self, **extra: Any) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "required": ", ".join(REQUIRED[self.kind]),
            "optional": OPTIONAL[self.kind],
            "list_url": reverse(LIST_URLS[self.kind]),
            "max_bytes": max_bytes(),
        } | extra

    def guard(self) -> None:
        if self.kind == "domains" and not is_superadmin(self.request.user):
            raise Http404

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.guard()
        return render(request, "csvimport/upload.html", self.context(form=UploadForm()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.guard()
        if request.POST.get("step") == "apply":
            return self.apply()
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, "csvimport/upload.html", self.context(form=form))
        upload = form.cleaned_data["file"]
        # A file past the limit is not read: read_csv refuses its first bytes beyond it.
        data = upload.read(max_bytes() + 1)
        try:
            plan = plan_import(self.request.user, self.kind, read_csv(data, kind=self.kind))
        except CsvRefused as exc:
            form.add_error("file", str(exc))
            return render(request, "csvimport/upload.html", self.context(form=form))
        return self.preview(plan, data)

    def preview(self, plan: ImportPlan, data: bytes, **extra: Any) -> HttpResponse:
        errors = [row for row in plan.rows if row.status == ERROR]
        others = [row for row in plan.rows if row.status != ERROR][:SHOWN]
        context = self.context(
            plan=plan,
            summary=plan.summary,
            rows=sorted(errors + others, key=lambda row: row.number),
            hidden=max(len(plan.rows) - len(errors) - len(others), 0),
            payload=pack(data),
            **extra,
        )
        return render(self.request, "csvimport/preview.html", context)

    def apply(self) -> HttpResponse:
        try:
            data = unpack(self.request.POST.get("payload", ""))
            plan = plan_import(self.request.user, self.kind, read_csv(data, kind=self.kind))
        except CsvRefused as exc:
            form = UploadForm()
            form.add_error(None, str(exc))
            return render(self.request, "csvimport/upload.html", self.context(form=form))
        only_valid = self.request.POST.get("mode") == "valid"
        try:
            result = csv_import_apply(
                actor=self.request.user,
                plan=plan,
                only_valid=only_valid,
                welcome=bool(self.request.POST.get("welcome")),
            )
        except ImportFailed as exc:
            failure = _("Nothing was written: row %(row)s (%(key)s): %(reason)s") % {
                "row": exc.row.number,
                "key": exc.row.key,
                "reason": exc.reason,
            }
            return self.preview(plan, data, failure=failure)
        text = _("Imported: %(created)s created, %(updated)s updated.") % {
            "created": result.created,
            "updated": result.updated,
        }
        for number, key, reason in result.refused:
            messages.warning(self.request, f"{_('Row')} {number} ({key}): {reason}")
        messages.success(self.request, text)
        if result.passwords:
            # Shown once: the only copy of the generated passwords is this download.
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["username", "password"])
            writer.writerows(result.passwords)
            response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
            stamp = timezone.now().strftime("%Y%m%d-%H%M")
            response["Content-Disposition"] = f'attachment; filename="passwords-{stamp}.csv"'
            response["Cache-Control"] = "no-store"
            return response
        return HttpResponseRedirect(reverse(LIST_URLS[self.kind]))
