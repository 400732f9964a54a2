"""The admin's subscribers and mailings, and the CSV import (#20.3)."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from blog.models import PostMailing, Subscriber
from blog.subscriptions import csvimport
from tests.factories import make_category, make_post, make_subscriber

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/blog/subscriber/"
IMPORT = "/admin/blog/subscriber/import/"


def upload(admin_client, text: str, name: str = "readers.csv"):
    data = text.encode() if isinstance(text, str) else text
    return admin_client.post(IMPORT, {"file": SimpleUploadedFile(name, data)})


def test_the_admin_lists_subscribers_with_state_consent_date_and_categories(
    admin_client,
):
    health = make_category(name="Health")
    make_subscriber(email="ada@example.com", categories=[health])
    make_subscriber(email="grace@example.com", state=Subscriber.State.PENDING)
    page = admin_client.get(CHANGELIST).content.decode()
    assert "ada@example.com" in page and "grace@example.com" in page
    assert "Health" in page and "every post" in page
    assert "Waiting for confirmation" in page
    assert "Import from a CSV file" in page

    found = admin_client.get(CHANGELIST, {"q": "grace"}).content.decode()
    assert "grace@example.com" in found and "ada@example.com" not in found
    pending = admin_client.get(CHANGELIST, {"state__exact": "pending"})
    assert "ada@example.com" not in pending.content.decode()


def test_the_import_keeps_consent_dates_and_categories(admin_client, settings):
    make_category(name="Health", slug="health")
    make_category(name="News", slug="news")
    response = upload(
        admin_client,
        "email,consented_at,categories\n"
        "Ada@Example.com,2024-05-31,\n"
        "grace@example.com,2025-01-15T09:30:00Z,health news\n",
    )
    assert response.status_code == 302
    ada = Subscriber.objects.get(email="ada@example.com")
    grace = Subscriber.objects.get(email="grace@example.com")
    assert ada.state == grace.state == Subscriber.State.CONFIRMED
    assert ada.source == Subscriber.Source.IMPORT
    assert grace.confirmed_at == datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
    assert timezone.localtime(ada.confirmed_at).date().isoformat() == "2024-05-31"
    assert sorted(grace.categories.values_list("slug", flat=True)) == ["health", "news"]
    assert not ada.categories.exists()
    message = admin_client.get(CHANGELIST).content.decode()
    assert "Imported: 2. Already here, and left as they were: 0." in message


def test_the_import_leaves_addresses_already_here_as_they_are(admin_client):
    make_subscriber(email="gone@example.com", state=Subscriber.State.UNSUBSCRIBED)
    upload(
        admin_client,
        "email,consented_at\ngone@example.com,2024-01-01\nnew@example.com,2024-01-01\n",
    )
    assert Subscriber.objects.get(email="gone@example.com").state == "unsubscribed"
    assert Subscriber.objects.get(email="new@example.com").state == "confirmed"


GOOD = "ok@example.com,2024-01-01\n"  # a good line: not imported either


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("address,date\n" + GOOD, "must name the columns"),
        (
            "email,consented_at\n" + GOOD + "not-an-address,2024-01-01\n",
            "Line 3: “not-an-address” is not an email address.",
        ),
        (
            "email,consented_at\n" + GOOD + "a@example.com,last spring\n",
            "Line 3: “last spring” is not a date",
        ),
        (
            "email,consented_at\n" + GOOD + "a@example.com,2999-01-01\n",
            "Line 3: the consent date 2999-01-01 is in the future.",
        ),
        (
            "email,consented_at\n" + GOOD + "OK@example.com,2024-02-01\n",
            "Line 3: ok@example.com is on line 2 already.",
        ),
        (
            "email,consented_at,categories\n"
            + GOOD
            + "a@example.com,2024-01-01,nowhere\n",
            "Line 3: there is no category nowhere.",
        ),
        (
            "email,consented_at\n" + GOOD + "a@example.com,2024-01-01,extra\n",
            "Line 3 has more values than the first line has columns.",
        ),
        ("email,consented_at\n\n", "The file has no addresses in it."),
    ],
)
def test_a_malformed_file_is_refused_whole_with_its_line(admin_client, text, problem):
    response = upload(admin_client, text)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert problem in page
    assert not Subscriber.objects.exists()


def test_a_file_that_is_not_utf8_is_refused(admin_client):
    response = upload(
        admin_client,
        "email,consented_at\nzoë@example.com,2024-01-01\n".encode("latin-1"),
    )
    assert "not UTF-8 text" in response.content.decode()
    assert not Subscriber.objects.exists()


def test_the_import_takes_a_utf8_file_with_a_byte_order_mark():
    result = csvimport.import_csv(
        "\ufeffemail,consented_at\na@example.com,2024-01-01\n".encode()
    )
    assert result.added == 1


def test_only_who_may_add_subscribers_may_import(client):
    from tests.factories import make_user

    client.force_login(make_user(is_staff=True))
    assert client.get(IMPORT).status_code == 403


def test_the_import_command_does_the_same(tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text("email,consented_at\na@example.com,2024-01-01\n")
    call_command("import_subscribers", str(good))
    assert (
        "Imported: 1. Already here, and left as they were: 0."
        in capsys.readouterr().out
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("email,consented_at\nb@example.com,2024-01-01\nnope,2024-01-01\n")
    with pytest.raises(CommandError, match="Line 3"):
        call_command("import_subscribers", str(bad))
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["a@example.com"]


def test_the_unsubscribe_action(admin_client):
    subscriber = make_subscriber()
    admin_client.post(
        CHANGELIST, {"action": "unsubscribe", "_selected_action": [subscriber.pk]}
    )
    subscriber.refresh_from_db()
    assert subscriber.state == Subscriber.State.UNSUBSCRIBED


def test_the_mailings_list_shows_how_far_each_has_got(
    admin_client, django_capture_on_commit_callbacks
):
    for _ in range(2):
        make_subscriber()
    with django_capture_on_commit_callbacks(execute=True):
        make_post(title="Spasms", published_at=timezone.now())
    page = admin_client.get("/admin/blog/postmailing/").content.decode()
    assert "Spasms" in page
    assert PostMailing.objects.get().state == PostMailing.State.DONE
    assert reverse("admin:blog_postmailing_changelist") == "/admin/blog/postmailing/"
