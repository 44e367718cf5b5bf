"""The "Online booking" page of a location (F6): the widget's rules saved exactly or not at
all, the public address, the link, its QR (decoded by a real QR reader) and the snippets for
the salon's own site, the warning when a prepayment cannot be collected, and the phone codes
waiting. Owners and administrators only; another business's location is a 404."""

import io
import re
from datetime import timedelta

import pytest
import zxingcpp
from django.urls import reverse
from django.utils import timezone
from fpdf import FPDF
from PIL import Image

from navbat.accounts.models import Membership
from navbat.booking import phone_checks, public_links, settings_services
from navbat.booking.models import BookingSettings, PhoneCheck
from navbat.kit.errors import Conflict, Refused
from navbat.salons.models import Location, Prepayment
from navbat.salons.services import create_location
from tests.payments.test_qr_downloads import render_pdf
from tests.salons.pages import text

pytestmark = pytest.mark.django_db

ROOT = "https://navbat.example.uz"


@pytest.fixture(autouse=True)
def public_root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT


def page_url(location) -> str:
    return reverse("booking_settings:location", kwargs={"location_id": location.pk})


def address_url(location) -> str:
    return reverse("booking_settings:address", kwargs={"location_id": location.pk})


def all_urls(location) -> list[str]:
    kwargs = {"location_id": location.pk}
    return [
        page_url(location),
        address_url(location),
        reverse("booking_settings:codes", kwargs=kwargs),
        reverse("booking_settings:qr-png", kwargs=kwargs),
        reverse("booking_settings:qr-svg", kwargs=kwargs),
    ]


def settings_data(**overrides) -> dict:
    data = {
        "enabled": "on",
        "slot_step_minutes": "30",
        "min_notice_minutes": "120",
        "horizon_days": "45",
        "buffer_minutes": "10",
        "hold_minutes": "20",
        "change_cutoff_hours": "12",
        "phone_confirmation": "on",
        "terms": "  Come 5 minutes early.  ",
        "refund_policy": "before",
        "refund_before_hours": "6",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def stored(location) -> dict | None:
    row = BookingSettings.objects.filter(location=location).values().first()
    if row is not None:
        row.pop("updated_at")
    return row


def widget_url(location) -> str:
    return f"{ROOT}/book/{location.public_slug}/"


def decoded(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


# --- who may open it -------------------------------------------------------------------------


def test_the_menu_leads_to_the_only_locations_page(salon_a, login):
    http = login(salon_a.owner)
    journal = text(http.get(reverse("booking:journal")))
    assert f'href="{reverse("booking_settings:index")}"' in journal
    assert "Online booking" in journal
    response = http.get(reverse("booking_settings:index"))
    assert response.status_code == 302
    assert response["Location"] == page_url(salon_a.location)


def test_with_several_locations_the_index_lists_them(salon_a, login):
    second = create_location(business=salon_a.business, name="Location A2")
    response = login(salon_a.admin).get(reverse("booking_settings:index"))
    assert response.status_code == 200
    body = text(response)
    assert page_url(salon_a.location) in body
    assert page_url(second) in body


def test_the_menu_entry_is_not_shown_to_a_specialist(salon_a, login):
    journal = text(login(salon_a.specialist_user).get(reverse("booking:journal")))
    assert reverse("booking_settings:index") not in journal


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_administrators_see_the_page(salon_a, login, role):
    response = login(getattr(salon_a, role)).get(page_url(salon_a.location))
    assert response.status_code == 200
    body = text(response)
    assert widget_url(salon_a.location) in body
    # Defaults before anything is saved: the widget is off, the hold is 15 minutes.
    assert 'name="hold_minutes" value="15"' in body
    assert 'id="widget-state">Off<' in body
    assert stored(salon_a.location) is None


def test_a_specialist_is_refused_everywhere_and_nothing_changes(salon_a, login):
    http = login(salon_a.specialist_user)
    slug = salon_a.location.public_slug
    assert http.get(reverse("booking_settings:index")).status_code == 403
    for url in all_urls(salon_a.location):
        assert http.get(url).status_code in (403, 405)
        assert http.post(url, settings_data(public_slug="taken-over")).status_code in (403, 405)
    assert stored(salon_a.location) is None
    salon_a.location.refresh_from_db()
    assert salon_a.location.public_slug == slug


def test_another_business_location_is_not_found_and_nothing_changes(salon_a, salon_b, login):
    http = login(salon_a.owner)
    slug = salon_b.location.public_slug
    for url in all_urls(salon_b.location):
        assert http.get(url).status_code in (404, 405)
        assert http.post(url, settings_data(public_slug="taken-over")).status_code in (404, 405)
    assert stored(salon_b.location) is None
    salon_b.location.refresh_from_db()
    assert salon_b.location.public_slug == slug


def test_anonymous_visitors_are_sent_to_log_in(client, salon_a):
    for url in all_urls(salon_a.location):
        response = client.get(url)
        assert response.status_code in (302, 405)
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("accounts:login"))


# --- saving the rules --------------------------------------------------------------------------


def test_the_rules_are_saved_exactly(salon_a, login):
    response = login(salon_a.admin).post(page_url(salon_a.location), settings_data())
    assert response.status_code == 302
    assert response["Location"] == page_url(salon_a.location)
    row = stored(salon_a.location)
    assert row == {
        "id": row["id"],
        "business_id": salon_a.business.pk,
        "location_id": salon_a.location.pk,
        "enabled": True,
        "slot_step_minutes": 30,
        "min_notice_minutes": 120,
        "horizon_days": 45,
        "buffer_minutes": 10,
        "hold_minutes": 20,
        "change_cutoff_hours": 12,
        "phone_confirmation": True,
        "terms": "Come 5 minutes early.",
        "refund_policy": "before",
        "refund_before_hours": 6,
    }


def test_saving_again_changes_the_one_row(salon_a, login):
    http = login(salon_a.owner)
    http.post(page_url(salon_a.location), settings_data())
    response = http.post(
        page_url(salon_a.location),
        settings_data(enabled=None, phone_confirmation=None, refund_policy="always", terms=""),
    )
    assert response.status_code == 302
    assert BookingSettings.objects.filter(location=salon_a.location).count() == 1
    row = stored(salon_a.location)
    assert (row["enabled"], row["phone_confirmation"], row["refund_policy"], row["terms"]) == (
        False,
        False,
        "always",
        "",
    )
    page = text(http.get(page_url(salon_a.location)))
    assert 'id="widget-off-note"' in page


def test_a_policy_without_hours_keeps_the_stored_hours(salon_a, login):
    http = login(salon_a.owner)
    http.post(page_url(salon_a.location), settings_data(refund_before_hours="6"))
    response = http.post(
        page_url(salon_a.location), settings_data(refund_policy="never", refund_before_hours="")
    )
    assert response.status_code == 302
    row = stored(salon_a.location)
    assert (row["refund_policy"], row["refund_before_hours"]) == ("never", 6)


BAD_INPUT = [
    ({"slot_step_minutes": "7"}, "slot_step_minutes", "Select a valid choice."),
    ({"min_notice_minutes": "-1"}, "min_notice_minutes", "greater than or equal to 0"),
    ({"min_notice_minutes": str(14 * 24 * 60 + 1)}, "min_notice_minutes", "less than or equal"),
    ({"horizon_days": "0"}, "horizon_days", "greater than or equal to 1"),
    ({"horizon_days": "366"}, "horizon_days", "less than or equal to 365"),
    ({"buffer_minutes": "241"}, "buffer_minutes", "less than or equal to 240"),
    ({"hold_minutes": "4"}, "hold_minutes", "greater than or equal to 5"),
    ({"hold_minutes": ""}, "hold_minutes", "This field is required."),
    ({"hold_minutes": "ten"}, "hold_minutes", "Enter a whole number."),
    ({"change_cutoff_hours": "721"}, "change_cutoff_hours", "less than or equal to 720"),
    ({"refund_policy": "sometimes"}, "refund_policy", "Select a valid choice."),
    ({"refund_before_hours": ""}, "refund_before_hours", "Give the number of hours"),
    ({"refund_before_hours": "1000"}, "refund_before_hours", "less than or equal to 720"),
    ({"terms": "x" * 5001}, "terms", "at most 5000 characters"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUT)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_saved(
    salon_a, login, overrides, field, message
):
    http = login(salon_a.owner)
    http.post(page_url(salon_a.location), settings_data(enabled=None))
    before = stored(salon_a.location)
    response = http.post(page_url(salon_a.location), settings_data(**overrides))
    assert response.status_code == 400
    assert message in response.context["form"].errors[field][0]
    assert message in text(response)
    assert stored(salon_a.location) == before


def test_bad_input_on_a_first_save_creates_no_row(salon_a, login):
    response = login(salon_a.owner).post(
        page_url(salon_a.location), settings_data(hold_minutes="1")
    )
    assert response.status_code == 400
    assert stored(salon_a.location) is None


def test_errors_come_in_the_users_language(salon_a, login):
    response = login(salon_a.owner, language="ru").post(
        page_url(salon_a.location), settings_data(hold_minutes="ten")
    )
    assert response.status_code == 400
    assert "Введите целое число." in text(response)
    assert stored(salon_a.location) is None


def test_only_managers_of_the_business_may_save_through_the_service(salon_a, salon_b):
    values = {
        "enabled": True,
        "slot_step_minutes": 15,
        "min_notice_minutes": 60,
        "horizon_days": 60,
        "buffer_minutes": 0,
        "hold_minutes": 15,
        "change_cutoff_hours": 24,
        "phone_confirmation": False,
        "terms": "",
        "refund_policy": "always",
        "refund_before_hours": 24,
    }
    specialist = Membership.objects.get(user=salon_a.specialist_user)
    outsider = Membership.objects.get(user=salon_b.owner)
    for member in (specialist, outsider, None):
        with pytest.raises(Refused) as refused:
            settings_services.save_booking_settings(
                location=salon_a.location, member=member, **values
            )
        assert refused.value.reason == "not_allowed"
        with pytest.raises(Refused):
            settings_services.change_public_slug(
                location=salon_a.location, member=member, slug="mine-now"
            )
    assert stored(salon_a.location) is None
    owner = Membership.objects.get(user=salon_a.owner)
    saved = settings_services.save_booking_settings(
        location=salon_a.location, member=owner, **values
    )
    assert (saved.enabled, saved.refund_policy) == (True, "always")


# --- the address, the QR and the snippets ------------------------------------------------------


def test_the_page_shows_the_link_and_the_snippets(salon_a, login):
    body = text(login(salon_a.owner).get(page_url(salon_a.location)))
    url = widget_url(salon_a.location)
    assert f'id="widget-url" value="{url}"' in body
    assert (
        f'<iframe src="{url}" title="Online booking" width="100%" height="720" '
        'style="border:0;max-width:480px" loading="lazy"></iframe>'
    ) in body
    assert (
        f'<script src="{ROOT}/static/navbat/book-button.js" data-navbat-book="{url}" '
        "async></script>"
    ) in body
    # Each of the three has its copy button.
    for target in ("widget-url", "iframe-snippet", "button-snippet"):
        assert f'data-copy="{target}"' in body


def test_the_widget_address_is_made_in_one_place():
    assert public_links.widget_url("salon-a") == f"{ROOT}/book/salon-a/"


def test_the_inline_qr_decodes_to_the_widget(salon_a, login):
    body = login(salon_a.owner).get(page_url(salon_a.location)).content.decode()
    svg = re.search(r'<figure class="qr" id="widget-qr">.*?(<svg.*?</svg>)', body, re.S).group(1)
    pdf = FPDF(unit="mm", format=(80, 80))
    pdf.add_page()
    pdf.image(io.BytesIO(svg.encode()), x=10, y=10, w=60, h=60)
    image, _text, _size = render_pdf(bytes(pdf.output()), dpi=200)
    assert decoded(image) == [widget_url(salon_a.location)]


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_the_png_decodes_to_the_widget_and_is_big_enough_for_instagram(salon_a, login, role):
    url = reverse("booking_settings:qr-png", kwargs={"location_id": salon_a.location.pk})
    response = login(getattr(salon_a, role)).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        f'attachment; filename="booking-{salon_a.location.pk}-qr.png"'
    )
    image = Image.open(io.BytesIO(response.content))
    assert decoded(image) == [widget_url(salon_a.location)]
    assert image.size[0] == image.size[1] >= 1080
    rgb = image.convert("RGB")
    # The quiet zone: white all round (4 modules, at least 4 × 20 px here).
    assert {rgb.getpixel((x, 0)) for x in range(image.size[0])} == {(255, 255, 255)}
    assert {rgb.getpixel((0, y)) for y in range(image.size[1])} == {(255, 255, 255)}


def test_the_svg_is_a_vector_that_decodes_to_the_widget(salon_a, login):
    url = reverse("booking_settings:qr-svg", kwargs={"location_id": salon_a.location.pk})
    response = login(salon_a.owner).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "<image" not in response.content.decode()
    pdf = FPDF(unit="mm", format=(80, 80))
    pdf.add_page()
    pdf.image(io.BytesIO(response.content), x=10, y=10, w=60, h=60)
    image, _text, _size = render_pdf(bytes(pdf.output()), dpi=200)
    assert decoded(image) == [widget_url(salon_a.location)]


def test_a_new_address_is_saved_and_the_qr_follows_it(salon_a, login):
    http = login(salon_a.owner)
    response = http.post(address_url(salon_a.location), {"public_slug": " Gulnora-Chilonzor "})
    assert response.status_code == 302
    salon_a.location.refresh_from_db()
    assert salon_a.location.public_slug == "gulnora-chilonzor"
    png = http.get(reverse("booking_settings:qr-png", kwargs={"location_id": salon_a.location.pk}))
    assert decoded(Image.open(io.BytesIO(png.content))) == [f"{ROOT}/book/gulnora-chilonzor/"]


def test_an_address_taken_by_any_location_is_refused(salon_a, salon_b, login):
    slug = salon_a.location.public_slug
    response = login(salon_a.owner).post(
        address_url(salon_a.location), {"public_slug": salon_b.location.public_slug}
    )
    assert response.status_code == 400
    assert "This address is taken. Choose another one." in text(response)
    salon_a.location.refresh_from_db()
    assert salon_a.location.public_slug == slug
    with pytest.raises(Conflict) as taken:
        settings_services.change_public_slug(
            location=salon_a.location,
            member=Membership.objects.get(user=salon_a.owner),
            slug=salon_b.location.public_slug,
        )
    assert [error.code for error in taken.value.error_dict["public_slug"]] == ["slug_taken"]


@pytest.mark.parametrize(
    "slug", ["ab", "has space", "ünicode", "double--hyphen", "-edge", "edge-", "x" * 61, ""]
)
def test_a_malformed_address_is_refused(salon_a, login, slug):
    before = salon_a.location.public_slug
    response = login(salon_a.owner).post(address_url(salon_a.location), {"public_slug": slug})
    assert response.status_code == 400
    assert response.context["slug_form"].errors["public_slug"]
    assert Location.objects.get(pk=salon_a.location.pk).public_slug == before


# --- the prepayment warning --------------------------------------------------------------------


WARNING = 'id="prepayment-unreachable"'


def test_no_warning_without_a_prepayment_rule(salon_a, login):
    assert WARNING not in text(login(salon_a.owner).get(page_url(salon_a.location)))


def test_a_rule_without_a_bank_is_warned_of(salon_a, login):
    service = salon_a.services[0]
    service.prepayment = Prepayment.REQUIRED
    service.save()
    body = text(login(salon_a.owner).get(page_url(salon_a.location)))
    assert WARNING in body
    assert "no bank takes online payments" in body


def test_a_specialists_rule_without_a_bank_is_warned_of(salon_a, login):
    specialist = salon_a.specialists[1]
    specialist.prepayment = Prepayment.OPTIONAL
    specialist.save()
    assert WARNING in text(login(salon_a.owner).get(page_url(salon_a.location)))


def test_a_rule_of_a_service_not_booked_online_is_not_warned_of(salon_a, login):
    service = salon_a.services[0]
    service.prepayment = Prepayment.REQUIRED
    service.bookable_online = False
    service.save()
    assert WARNING not in text(login(salon_a.owner).get(page_url(salon_a.location)))


def test_with_a_bank_connected_there_is_no_warning(salon_a, login, connect_uzum):
    connect_uzum(salon_a)
    service = salon_a.services[0]
    service.prepayment = Prepayment.REQUIRED
    service.save()
    assert WARNING not in text(login(salon_a.owner).get(page_url(salon_a.location)))


# --- phone codes waiting -----------------------------------------------------------------------


def test_the_codes_waiting_are_shown_for_this_location_only(salon_a, salon_b, login):
    waiting = phone_checks.ask_code(location=salon_a.location, phone="+998905551234")
    confirmed = phone_checks.ask_code(location=salon_a.location, phone="+998905551235")
    phone_checks.confirm(nonce=confirmed.nonce, code=confirmed.code)
    expired = phone_checks.ask_code(location=salon_a.location, phone="+998905551236")
    PhoneCheck.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(1))
    other_location = create_location(business=salon_a.business, name="Location A2")
    elsewhere = phone_checks.ask_code(location=other_location, phone="+998905551237")
    other_business = phone_checks.ask_code(location=salon_b.location, phone="+998905551238")

    http = login(salon_a.admin)
    for url in (
        page_url(salon_a.location),
        reverse("booking_settings:codes", kwargs={"location_id": salon_a.location.pk}),
    ):
        body = text(http.get(url))
        rows = re.findall(
            r"<tr><td>(\+\d+)</td><td><strong class=\"phone-code\">(\d+)</strong>", body
        )
        assert rows == [("+998905551234", waiting.code)]
        assert "10 minutes" in body
        for hidden in (confirmed, expired, elsewhere, other_business):
            assert hidden.phone not in body


def test_no_codes_waiting_says_so(salon_a, login):
    body = text(login(salon_a.owner).get(page_url(salon_a.location)))
    assert 'id="no-phone-codes"' in body
    assert "read it out to the client" in body
