"""List audiences from CSV uploads, overlap of two audiences, and who entered lately."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from segments import lists, selectors, services
from segments.models import Audience, AudienceListUpload, AudienceSizeSnapshot, Membership
from segments.signals import membership_changed
from tests.factories import IdentityFactory, ProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    """Three known people: ann (email + user id), bo (email), cy (phone)."""
    found = {}
    for name, namespace, value in [
        ("ann", "email", "ann@luma.example"),
        ("bo", "email", "bo@luma.example"),
        ("cy", "phone", "+46701112233"),
    ]:
        found[name] = ProfileFactory(display_name=name.title(), is_known=True)
        IdentityFactory(profile=found[name], namespace=namespace, value=value)
    IdentityFactory(profile=found["ann"], namespace="user_id", value="u-ann")
    return found


@pytest.fixture
def marketer_client(client, make_user):
    client.force_login(make_user("marketer"))
    return client


def csv_file(text: str, name: str = "list.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


MIXED = (
    "E-mail;Phone;First name\n"
    "ANN@luma.example;;Ann\n"  # case differs: normalized like collection does
    ";+46 70 111 22 33;Cy\n"  # phone typed with spaces
    "nobody@luma.example;;No one\n"
    "not-an-email;;Broken\n"
    "bo@luma.example;+46701112233;Two people\n"
    '=HYPERLINK("http://evil");;Injected\n'
)


def test_a_csv_list_becomes_an_audience_with_a_report_of_what_did_not_match(marketer_client, people):
    response = marketer_client.post(
        reverse("segments:create-list"), {"name": "Store event guests", "file": csv_file(MIXED)}
    )
    audience = Audience.objects.get(name="Store event guests")
    assert response.status_code == 302 and audience.kind == Audience.Kind.LIST
    members = set(
        Membership.objects.filter(audience=audience, exited_at=None).values_list("profile_id", flat=True)
    )
    assert members == {people["ann"].pk, people["cy"].pk}
    assert audience.size == 2 and Membership.objects.filter(entered_how="list").count() == 2
    upload = AudienceListUpload.objects.get(audience=audience)
    assert (upload.rows, upload.matched_rows, upload.unmatched_count) == (6, 2, 4)
    assert upload.columns == ["email", "phone"]
    reasons = {item["row"]: item["reason"] for item in upload.unmatched}
    assert reasons == {
        3: "no profile has these identities",
        4: "no usable identity (empty, or not a valid email/phone)",
        5: "the identities belong to 2 different profiles",
        6: "no usable identity (empty, or not a valid email/phone)",
    }
    detail = marketer_client.get(reverse("segments:detail", args=[audience.pk])).content.decode()
    assert "4 (CSV)" in detail and "Ann" in detail
    report = marketer_client.get(reverse("segments:unmatched", args=[upload.pk]))
    assert report["Content-Disposition"] == f'attachment; filename="unmatched-{upload.pk}.csv"'
    lines = report.content.decode().splitlines()
    assert lines[0] == "row,email,phone,reason"
    assert lines[1] == "3,nobody@luma.example,,no profile has these identities"
    assert lines[-1].startswith("6,\"'=HYPERLINK")  # a formula is not handed to a spreadsheet as one


def test_replace_records_exits_and_add_only_adds(marketer_client, people, django_capture_on_commit_callbacks):
    audience = services.create_audience(name="VIP", kind=Audience.Kind.LIST)
    lists.upload_list(audience=audience, data=b"email\nann@luma.example\nbo@luma.example\n")
    changes = []
    membership_changed.connect(lambda **kw: changes.append(kw), weak=False, dispatch_uid="test-lists")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = marketer_client.post(
                reverse("segments:upload", args=[audience.pk]),
                {"file": csv_file("user_id\nu-ann\n"), "mode": "replace"},
            )
        assert response.status_code == 302
        bo_stay = Membership.objects.get(audience=audience, profile=people["bo"])
        assert bo_stay.exited_at is not None and bo_stay.exited_how == "list"
        with django_capture_on_commit_callbacks(execute=True):
            lists.upload_list(audience=audience, data=b"phone\n+46701112233\n", mode="add")
    finally:
        membership_changed.disconnect(dispatch_uid="test-lists")
    assert set(selectors.audience_members(audience=audience).values_list("display_name", flat=True)) == {
        "Ann",
        "Cy",
    }
    assert [(c["entered"], c["exited"]) for c in changes] == [
        ([], [people["bo"].pk]),
        ([people["cy"].pk], []),
    ]
    assert list(
        AudienceSizeSnapshot.objects.filter(audience=audience).order_by("at").values_list("size", flat=True)
    ) == [
        2,
        1,
        2,
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"name,city\nAnn,Lund\n", "The first row must name at least one identity column"),
        (b"email\n\n", "The file has a header but no rows."),
        (b"\x89PNG\x00\xff\xfe\x00\x81\x8d", "The file is not text"),
    ],
)
def test_a_file_that_is_not_a_list_is_a_form_error_and_keeps_the_members(
    marketer_client, people, content, message
):
    audience = services.create_audience(name="Kept", kind=Audience.Kind.LIST)
    lists.upload_list(audience=audience, data=b"email\nann@luma.example\n")
    response = marketer_client.post(
        reverse("segments:upload", args=[audience.pk]),
        {"file": SimpleUploadedFile("x.csv", content), "mode": "replace"},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert audience.memberships.filter(exited_at=None).count() == 1


def test_a_list_larger_than_the_limit_is_refused(settings, people):
    settings.CXO_LIST_UPLOAD_MAX_BYTES = 100
    audience = services.create_audience(name="Big", kind=Audience.Kind.LIST)
    with pytest.raises(lists.ListError, match="larger than"):
        lists.upload_list(audience=audience, data=b"email\n" + b"x@luma.example\n" * 20)


def test_the_api_creates_a_list_audience_and_uploads_into_it(api_client_for, people):
    api = api_client_for("marketer")
    created = api.post("/api/segments/audiences/", {"name": "Call list", "kind": "list"}, format="json")
    assert created.status_code == 201 and created.json()["kind"] == "list"
    pk = created.json()["id"]
    response = api.post(
        f"/api/segments/audiences/{pk}/list/",
        {"file": csv_file("userId,email\nu-ann,\n,ghost@luma.example\n"), "mode": "add"},
        format="multipart",
    )
    body = response.json()
    assert response.status_code == 200
    assert (body["rows"], body["matched_rows"], body["unmatched_count"], body["entered"]) == (2, 1, 1, 1)
    assert body["unmatched"] == [
        {
            "row": 2,
            "values": {"user_id": "", "email": "ghost@luma.example"},
            "reason": "no profile has these identities",
        }
    ]
    members = api.get(f"/api/segments/audiences/{pk}/members/").json()["results"]
    assert [m["id"] for m in members] == [people["ann"].pk]


def test_the_api_says_which_field_is_wrong(api_client_for, people):
    api = api_client_for("marketer")
    assert api.post("/api/segments/audiences/", {"name": "No rule"}, format="json").json()["errors"]["rule"]
    rule_audience = Audience.objects.create(
        name="Rule", rule={"type": "consent", "purpose": "email", "granted": True}
    )
    refused = api.post(
        f"/api/segments/audiences/{rule_audience.pk}/list/",
        {"file": csv_file("email\na@b.c\n")},
        format="multipart",
    )
    assert refused.status_code == 400 and refused.json()["field"] == "audience"
    listed = services.create_audience(name="L", kind=Audience.Kind.LIST)
    bad = api.post(
        f"/api/segments/audiences/{listed.pk}/list/", {"file": csv_file("city\nLund\n")}, format="multipart"
    )
    assert bad.status_code == 400 and bad.json()["field"] == "file"
    missing = api.post(f"/api/segments/audiences/{listed.pk}/list/", {}, format="multipart")
    assert missing.status_code == 400 and "file" in str(missing.json())
    assert api_client_for("agent").post(f"/api/segments/audiences/{listed.pk}/list/", {}).status_code == 403


def test_overlap_of_two_audiences_in_the_console_and_the_api(marketer_client, api_client_for, people):
    first = services.create_audience(name="First", kind=Audience.Kind.LIST)
    second = services.create_audience(name="Second", kind=Audience.Kind.LIST)
    lists.upload_list(audience=first, data=b"email\nann@luma.example\nbo@luma.example\n")
    lists.upload_list(audience=second, data=b"email,phone\nann@luma.example,\n,+46701112233\n")
    expected = {"first": 2, "second": 2, "both": 1, "first_only": 1, "second_only": 1, "union": 3}
    body = (
        api_client_for("marketer").get(f"/api/segments/audiences/overlap/?a={first.pk}&b={second.pk}").json()
    )
    assert {k: body[k] for k in expected} == expected and body["jaccard"] == pytest.approx(1 / 3)
    page = marketer_client.get(reverse("segments:overlap"), {"a": first.pk, "b": second.pk}).content.decode()
    assert 'id="overlap-both">1<' in page and ">Ann</a>" in page and ">Bo</a>" not in page
    same = marketer_client.get(reverse("segments:overlap"), {"a": first.pk, "b": first.pk})
    assert same.status_code == 400 and "Pick two different audiences." in same.content.decode()
    assert (
        api_client_for("marketer").get(f"/api/segments/audiences/overlap/?a={first.pk}&b=x").json()["field"]
        == "b"
    )


def test_who_entered_lately_and_the_size_trend(marketer_client, people):
    audience = services.create_audience(name="Trend", kind=Audience.Kind.LIST)
    lists.upload_list(audience=audience, data=b"email\nann@luma.example\n")
    Membership.objects.filter(audience=audience).update(entered_at=timezone.now() - timedelta(days=10))
    lists.upload_list(audience=audience, data=b"email\nbo@luma.example\n", mode="add")
    page = marketer_client.get(reverse("segments:entered", args=[audience.pk])).content.decode()
    assert ">Bo</a>" in page and ">Ann</a>" not in page
    page = marketer_client.get(
        reverse("segments:entered", args=[audience.pk]), {"days": "30"}
    ).content.decode()
    assert ">Ann</a>" in page
    listing = marketer_client.get(reverse("segments:home")).content.decode()
    assert 'class="sparkline"' in listing and 'aria-label="from 1 to 2"' in listing
