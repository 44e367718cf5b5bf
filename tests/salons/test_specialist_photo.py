"""A specialist's photo for the booking widget (F6): any JPEG, PNG or WebP in, a square JPEG
of at most 256 px stored (turned as the camera held it, transparency made white, nothing of
the file kept but its pixels); files that are not pictures, too big, or pixel bombs are
refused with a clear error and nothing changes. Owners and administrators only."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from navbat.salons import photos, services
from navbat.salons.models import Specialist

from .pages import text

pytestmark = pytest.mark.django_db

RED, BLUE = (220, 20, 20), (20, 20, 220)


def picture(size=(1000, 600), *, kind="JPEG", mode="RGB", colour=RED, exif=None) -> bytes:
    image = Image.new(mode, size, colour)
    out = io.BytesIO()
    options = {"exif": exif} if exif is not None else {}
    image.save(out, format=kind, **options)
    return out.getvalue()


def upload(data: bytes, name="photo.jpg", content_type="image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def photo_url(specialist) -> str:
    return reverse("salons:specialist_photo", kwargs={"specialist_id": specialist.pk})


def file_url(specialist) -> str:
    return reverse("salons:specialist_photo_file", kwargs={"specialist_id": specialist.pk})


def stored(specialist) -> tuple:
    specialist.refresh_from_db()
    photo = bytes(specialist.photo) if specialist.photo is not None else None
    return photo, specialist.photo_updated_at


def post(http, specialist, data: bytes, **kwargs):
    return http.post(photo_url(specialist), {"photo-photo": upload(data, **kwargs)})


def test_a_photo_becomes_a_256_px_square_jpeg(salon_a, login):
    specialist = salon_a.specialists[0]
    http = login(salon_a.owner)
    response = post(http, specialist, picture((1000, 600)))
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "salons:specialist_edit", kwargs={"specialist_id": specialist.pk}
    )
    photo, updated_at = stored(specialist)
    assert updated_at is not None
    assert len(photo) <= photos.PHOTO_MAX_BYTES
    image = Image.open(io.BytesIO(photo))
    assert (image.format, image.size, image.mode) == ("JPEG", (256, 256), "RGB")
    red, green, blue = image.getpixel((128, 128))
    assert red > 200 and green < 40 and blue < 40
    # The page shows it, and its file is served to the salon's people.
    page = text(
        http.get(reverse("salons:specialist_edit", kwargs={"specialist_id": specialist.pk}))
    )
    assert f'src="{file_url(specialist)}?v=' in page
    served = http.get(file_url(specialist))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert served.content == photo


def test_a_small_picture_is_not_enlarged_and_transparency_is_white(salon_a, login):
    specialist = salon_a.specialists[0]
    data = picture((120, 80), kind="PNG", mode="RGBA", colour=(0, 0, 0, 0))
    response = post(login(salon_a.admin), specialist, data, name="a.png", content_type="image/png")
    assert response.status_code == 302
    image = Image.open(io.BytesIO(stored(specialist)[0]))
    assert (image.format, image.size) == ("JPEG", (80, 80))
    assert min(image.getpixel((40, 40))) >= 250  # white, not black


def test_a_webp_is_taken(salon_a, login):
    specialist = salon_a.specialists[0]
    response = post(
        login(salon_a.owner),
        specialist,
        picture((300, 300), kind="WEBP"),
        name="a.webp",
        content_type="image/webp",
    )
    assert response.status_code == 302
    assert Image.open(io.BytesIO(stored(specialist)[0])).size == (256, 256)


def test_the_photo_is_turned_the_way_the_camera_held_it(salon_a, login):
    """Stored sideways with EXIF orientation 6 (turn 90° clockwise to view): left half red,
    right half blue as stored, so red on top and blue below as seen."""
    image = Image.new("RGB", (400, 200), BLUE)
    image.paste(RED, (0, 0, 200, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    specialist = salon_a.specialists[0]
    assert post(login(salon_a.owner), specialist, out.getvalue()).status_code == 302
    stored_image = Image.open(io.BytesIO(stored(specialist)[0]))
    assert stored_image.size == (200, 200)
    top, bottom = stored_image.getpixel((100, 20)), stored_image.getpixel((100, 180))
    assert top[0] > 180 and top[2] < 80  # red
    assert bottom[2] > 180 and bottom[0] < 80  # blue
    assert not stored_image.getexif()  # nothing of the file but its pixels


def test_a_new_photo_replaces_the_old_one(salon_a, login):
    specialist = salon_a.specialists[0]
    http = login(salon_a.owner)
    post(http, specialist, picture(colour=RED))
    first = stored(specialist)
    post(http, specialist, picture(colour=BLUE))
    second = stored(specialist)
    assert second[0] != first[0]
    assert second[1] > first[1]
    assert Image.open(io.BytesIO(second[0])).getpixel((128, 128))[2] > 200


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"just some text, not a picture", "photo.jpg"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "photo.pdf"),
        (picture(kind="GIF", mode="P"), "animated.gif"),
        (picture((200, 200), kind="BMP"), "photo.bmp"),
        (picture()[:200], "cut.jpg"),  # a JPEG cut short
        (b"", "empty.jpg"),
    ],
    ids=["text", "pdf", "gif", "bmp", "truncated", "empty"],
)
def test_what_is_not_a_picture_is_refused_and_nothing_changes(salon_a, login, data, name):
    specialist = salon_a.specialists[0]
    http = login(salon_a.owner)
    post(http, specialist, picture())
    before = stored(specialist)
    response = post(http, specialist, data, name=name)
    assert response.status_code == 400
    errors = response.context["photo_form"].errors["photo"]
    assert errors
    body = text(response)
    assert errors[0] in body
    if data:
        assert errors == ["This file is not a picture navbat can read. Choose a JPEG, PNG or WebP."]
    assert stored(specialist) == before


def test_a_pixel_bomb_is_refused_before_its_pixels_are_read(salon_a, login):
    # 100 megapixels in a small file: refused on its size, never decoded.
    data = picture((10_000, 10_000), kind="PNG", mode="1", colour=0)
    assert len(data) < 200_000
    specialist = salon_a.specialists[0]
    response = post(login(salon_a.owner), specialist, data, name="bomb.png")
    assert response.status_code == 400
    assert "not a picture navbat can read" in text(response)
    assert stored(specialist) == (None, None)


def test_a_file_too_big_is_refused_with_its_limit(salon_a, login, settings):
    settings.NAVBAT_MAX_REQUEST_BYTES = 216 * 1024  # the upload limit becomes 200 KB
    assert photos.photo_upload_limit() == 200 * 1024
    specialist = salon_a.specialists[0]
    http = login(salon_a.owner)
    page = text(
        http.get(reverse("salons:specialist_edit", kwargs={"specialist_id": specialist.pk}))
    )
    # The page tells the browser the limit (photo.js shrinks or refuses before sending).
    assert f'data-max-bytes="{200 * 1024}"' in page
    assert 'data-too-big="The file is too big: at most 0.2 MB."' in page
    big = picture() + b"\0" * (200 * 1024)  # a JPEG with padding after its end
    response = post(http, specialist, big)
    assert response.status_code == 400
    assert response.context["photo_form"].errors["photo"] == [
        "The file is too big: at most 0.2 MB."
    ]
    assert stored(specialist) == (None, None)


def test_no_file_is_a_clear_error(salon_a, login):
    specialist = salon_a.specialists[0]
    response = login(salon_a.owner).post(photo_url(specialist), {})
    assert response.status_code == 400
    assert response.context["photo_form"].errors["photo"] == ["This field is required."]
    assert stored(specialist) == (None, None)


def test_the_photo_is_removed(salon_a, login):
    specialist = salon_a.specialists[0]
    http = login(salon_a.owner)
    post(http, specialist, picture())
    response = http.post(photo_url(specialist), {"remove": "1"})
    assert response.status_code == 302
    assert stored(specialist) == (None, None)
    placeholder = http.get(file_url(specialist))
    assert placeholder.status_code == 302
    assert placeholder["Location"] == "/static/salons/no-photo.svg"
    page = text(
        http.get(reverse("salons:specialist_edit", kwargs={"specialist_id": specialist.pk}))
    )
    assert 'id="no-photo"' in page


def test_a_specialist_user_cannot_change_photos(salon_a, login):
    specialist = salon_a.specialists[0]
    services.set_specialist_photo(specialist=specialist, upload=upload(picture()))
    before = stored(specialist)
    http = login(salon_a.specialist_user)
    assert post(http, specialist, picture(colour=BLUE)).status_code == 403
    assert http.post(photo_url(specialist), {"remove": "1"}).status_code == 403
    assert stored(specialist) == before


def test_another_business_specialist_is_not_found(salon_a, salon_b, login):
    specialist = salon_b.specialists[0]
    services.set_specialist_photo(specialist=specialist, upload=upload(picture()))
    before = stored(specialist)
    http = login(salon_a.owner)
    assert post(http, specialist, picture(colour=BLUE)).status_code == 404
    assert http.post(photo_url(specialist), {"remove": "1"}).status_code == 404
    assert http.get(file_url(specialist)).status_code == 404
    assert stored(specialist) == before


def test_only_post_changes_a_photo(salon_a, login):
    specialist = salon_a.specialists[0]
    http = login(salon_a.owner)
    assert http.get(photo_url(specialist)).status_code == 405
    assert http.post(file_url(specialist)).status_code == 405
    assert Specialist.objects.get(pk=specialist.pk).photo is None
