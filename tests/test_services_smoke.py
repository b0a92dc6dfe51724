"""The services leave the database as Postfix Admin would: own alias rows, byte quotas, logs."""

import pytest

from aliases.models import Alias
from domains.models import Domain, DomainAdmin
from mailboxes.models import Mailbox
from pfa.models import Config, Log
from tests.factories import make_alias, make_domain, make_mailbox

pytestmark = pytest.mark.django_db


def test_fresh_database_is_stamped_with_postfix_admin_4_0_schema_version():
    assert Config.objects.get(name="version").value == "1851"


def test_superadmin_is_stored_both_postfix_admin_ways(superadmin):
    superadmin.refresh_from_db()
    assert superadmin.superadmin is True
    assert DomainAdmin.objects.filter(username_id=superadmin.pk, domain_id="ALL").exists()
    assert Domain.objects.filter(domain="ALL").exists()


def test_mailbox_gets_own_alias_maildir_and_byte_quota(settings):
    settings.VIMBADMIN_QUOTA_MULTIPLIER = 1024000
    domain = make_domain("Bücher.Example")
    assert domain.domain == "xn--bcher-kva.example"
    mailbox = make_mailbox(domain, "Alice", quota_bytes=500 * 1024000)
    mailbox.refresh_from_db()
    assert mailbox.username == "alice@xn--bcher-kva.example"
    assert mailbox.local_part == "alice"
    assert mailbox.maildir == "xn--bcher-kva.example/alice/"
    assert mailbox.quota == 512000000
    assert mailbox.password.startswith("{SHA512-CRYPT}$6$")
    own = Alias.objects.get(address=mailbox.username)
    assert own.goto == mailbox.username
    assert Log.objects.filter(action="create_mailbox", data=mailbox.username).exists()


def test_alias_catch_all_and_purge_keeps_log_rows():
    domain = make_domain("gamma.example")
    make_mailbox(domain, "bob")
    catch_all = make_alias(domain, "", ["bob@gamma.example"])
    assert catch_all.address == "@gamma.example"
    from domains.services import domain_purge

    domain_purge(actor=None, domain=domain)
    assert not Mailbox.objects.filter(domain_id="gamma.example").exists()
    assert not Alias.objects.filter(domain_id="gamma.example").exists()
    assert Log.objects.filter(domain="gamma.example", action="create_mailbox").exists()
    assert Log.objects.filter(domain="gamma.example", action="delete_domain").exists()
