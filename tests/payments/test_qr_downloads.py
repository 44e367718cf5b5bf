"""The downloads of a checkout point's QR (F5): every format decodes, with a real QR
decoder, to the point's address and nothing else; PNGs print 6 cm wide at 300 dpi or more
with the quiet zone kept; the posters render in A5 and A4 and say "Scan to pay" in Uzbek,
Russian and English. Only owners and administrators download, only their active points."""

import io
import tempfile
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from fpdf import FPDF
from PIL import Image

from navbat.payments import printing
from navbat.salons.checkout_points import code_in_use, regenerate_code, retire_checkout_point

pytestmark = pytest.mark.django_db

ROOT = "https://navbat.example.uz"
FORMATS = ("png", "png-bw", "svg", "poster-a5", "poster-a4")
SCAN_TO_PAY = ("Toʻlash uchun skanerlang", "Отсканируйте для оплаты", "Scan to pay")
# A4 and A5 in PDF points (1/72 in).
PAGE_POINTS = {"a4": (595.28, 841.89), "a5": (419.53, 595.28)}


@pytest.fixture(autouse=True)
def public_root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT


def point_url(point) -> str:
    return f"{ROOT}/q/{code_in_use(point).code}"


def download(client, point, kind: str):
    return client.get(f"/payments/points/{point.pk}/{FILES[kind]}")


FILES = {
    "png": "qr-colour.png",
    "png-bw": "qr-bw.png",
    "svg": "qr.svg",
    "poster-a5": "poster-a5.pdf",
    "poster-a4": "poster-a4.pdf",
}


def decoded(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def render_pdf(body: bytes, *, dpi: int = 150) -> tuple[Image.Image, str, tuple]:
    """The first page as a picture, its text, and its size in points."""
    document = pypdfium2.PdfDocument(body)
    try:
        assert len(document) == 1
        page = document[0]
        image = page.render(scale=dpi / 72).to_pil()
        text = page.get_textpage().get_text_range()
        size = page.get_size()
        page.close()
    finally:
        document.close()
    return image, text, size


@pytest.mark.parametrize("role", ["owner", "admin"])
@pytest.mark.parametrize("kind", ["png", "png-bw"])
def test_the_pngs_decode_to_the_points_url_and_print_6_cm_at_300_dpi(salon_a, login, role, kind):
    response = download(login(getattr(salon_a, role)), salon_a.checkout_point, kind)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        f'attachment; filename="checkout-{salon_a.checkout_point.pk}-qr-'
        f'{"colour" if kind == "png" else "bw"}.png"'
    )
    image = Image.open(io.BytesIO(response.content))
    assert decoded(image) == [point_url(salon_a.checkout_point)]
    # "https://navbat.example.uz/q/" + a 22-character code is 50 bytes: version 6 at level
    # H, 41 modules + 2 × 4 of quiet zone = 49; 15 px a module = 735 px ≥ 709 px
    # (6 cm at 300 dpi); 735 px printed 6 cm wide is 311 dpi.
    assert image.size == (735, 735)
    dpi_x, dpi_y = image.info["dpi"]
    assert round(dpi_x) == round(dpi_y) == 311
    assert 6.0 <= 735 / dpi_x * 2.54 <= 6.01
    # The quiet zone: 4 modules (60 px) of white all round.
    rgb = image.convert("RGB")
    border = {rgb.getpixel((x, y)) for x in range(735) for y in (*range(60), *range(675, 735))}
    border |= {rgb.getpixel((x, y)) for y in range(735) for x in (*range(60), *range(675, 735))}
    assert border == {(255, 255, 255)}
    colours = {colour for _count, colour in rgb.getcolors(maxcolors=16)}
    if kind == "png":
        assert colours == {(255, 255, 255), (0x1D, 0x24, 0x30), (0x70, 0x00, 0xFF)}
    else:
        assert colours == {(255, 255, 255), (0, 0, 0)}


def test_the_code_is_level_h_with_a_quiet_zone_of_4_modules(salon_a):
    qr = printing.make_qr(code_in_use(salon_a.checkout_point).code)
    assert (qr.error, qr.version) == ("H", 6)
    assert printing.modules(qr) == 41 + 8
    assert printing.MIN_PIXELS == 709


def test_the_svg_is_a_6_cm_vector_that_decodes_to_the_points_url(salon_a, login):
    response = download(login(salon_a.owner), salon_a.checkout_point, "svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    body = response.content.decode()
    assert 'width="60.0mm" height="60.0mm"' in body
    assert "<image" not in body  # paths only, no embedded picture
    # Drawn by another SVG reader (fpdf2's) onto a PDF page, rendered by pdfium, decoded.
    pdf = FPDF(unit="mm", format=(80, 80))
    pdf.add_page()
    pdf.image(io.BytesIO(response.content), x=10, y=10, w=60, h=60)
    image, _text, _size = render_pdf(bytes(pdf.output()), dpi=200)
    assert decoded(image) == [point_url(salon_a.checkout_point)]


@pytest.mark.parametrize("size", ["a5", "a4"])
def test_the_posters_decode_and_say_scan_to_pay_in_three_languages(
    salon_a, login, connect_uzum, size
):
    connect_uzum(salon_a)
    response = download(login(salon_a.admin), salon_a.checkout_point, f"poster-{size}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    image, text, page_size = render_pdf(response.content)
    # Kept to be looked at: the posters are checked by eye as well as by the decoder.
    image.save(Path(tempfile.gettempdir()) / f"navbat-poster-{size}.png")
    assert decoded(image) == [point_url(salon_a.checkout_point)]
    assert page_size == pytest.approx(PAGE_POINTS[size], abs=0.1)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines == [
        "Salon A",
        "Location A · Desk",
        *SCAN_TO_PAY,
        "Kartalar · Карты · Cards",
        "Uzum Visa · Humo · Uzcard · Visa · MasterCard",
        "Uzum Bank ilovasi · приложение Uzum Bank · Uzum Bank app",
        point_url(salon_a.checkout_point),
    ]


def test_a_poster_made_before_a_bank_is_connected_promises_no_cards(salon_a, login):
    response = download(login(salon_a.owner), salon_a.checkout_point, "poster-a5")
    image, text, _size = render_pdf(response.content)
    assert decoded(image) == [point_url(salon_a.checkout_point)]
    assert "Scan to pay" in text
    assert "Humo" not in text and "Uzum Bank" not in text


def test_a_poster_carries_a_cyrillic_salon_name(salon_a, login):
    salon_a.business.name = "Салон «Гулнора»"
    salon_a.business.save(update_fields=["name"])
    salon_a.checkout_point.name = "Касса 1"
    salon_a.checkout_point.save(update_fields=["name"])
    response = download(login(salon_a.owner), salon_a.checkout_point, "poster-a4")
    _image, text, _size = render_pdf(response.content)
    assert "Салон «Гулнора»" in text
    assert "Location A · Касса 1" in text


@pytest.mark.parametrize("kind", FORMATS)
def test_a_new_code_is_in_every_download_and_the_old_one_in_none(salon_a, login, kind):
    old = code_in_use(salon_a.checkout_point).code
    new = regenerate_code(point=salon_a.checkout_point).code
    body = download(login(salon_a.owner), salon_a.checkout_point, kind).content
    if kind.startswith("poster"):
        image, text, _size = render_pdf(body)
        assert decoded(image) == [f"{ROOT}/q/{new}"]
        assert old not in text
    elif kind == "svg":
        assert f"{ROOT}/q/{new}".encode() in body  # the title
        assert old.encode() not in body
    else:
        assert decoded(Image.open(io.BytesIO(body))) == [f"{ROOT}/q/{new}"]


@pytest.mark.parametrize("kind", FORMATS)
def test_a_retired_point_is_not_found(salon_a, login, kind):
    retire_checkout_point(point=salon_a.checkout_point)
    assert download(login(salon_a.owner), salon_a.checkout_point, kind).status_code == 404


@pytest.mark.parametrize("kind", FORMATS)
def test_another_business_point_is_not_found(salon_a, salon_b, login, kind):
    assert download(login(salon_a.owner), salon_b.checkout_point, kind).status_code == 404


@pytest.mark.parametrize("kind", FORMATS)
def test_an_unknown_point_is_not_found(salon_a, login, kind):
    client = login(salon_a.owner)
    assert client.get(f"/payments/points/999999/{FILES[kind]}").status_code == 404


@pytest.mark.parametrize("kind", FORMATS)
def test_a_specialist_is_refused_and_a_stranger_sent_to_log_in(salon_a, login, client, kind):
    path = f"/payments/points/{salon_a.checkout_point.pk}/{FILES[kind]}"
    anonymous = client.get(path)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    assert login(salon_a.specialist_user).get(path).status_code == 403


def test_downloads_answer_get_only(salon_a, login):
    client = login(salon_a.owner)
    response = client.post(f"/payments/points/{salon_a.checkout_point.pk}/qr.svg")
    assert response.status_code == 405


@pytest.mark.parametrize("size", ["a5", "a4"])
def test_the_longest_names_shrink_and_the_code_keeps_its_place(salon_a, login, size):
    salon_a.business.name = "Гулнора " * 18 + "Salon"  # 149 characters
    salon_a.business.save(update_fields=["name"])
    salon_a.location.name = "L" * 150
    salon_a.location.save(update_fields=["name"])
    salon_a.checkout_point.name = "P" * 100
    salon_a.checkout_point.save(update_fields=["name"])
    response = download(login(salon_a.owner), salon_a.checkout_point, f"poster-{size}")
    image, text, _size = render_pdf(response.content)
    assert decoded(image) == [point_url(salon_a.checkout_point)]
    flat = text.replace("\r\n", " ").replace("\n", " ")
    assert " ".join(salon_a.business.name.split()) in " ".join(flat.split())
    assert all(words in text for words in SCAN_TO_PAY)
    assert point_url(salon_a.checkout_point) in text


@pytest.mark.parametrize(
    "root", ["http://a.uz", "https://navbat.example.uz", "https://pay." + "x" * 60 + ".uz"]
)
def test_every_png_is_at_least_709_px_and_prints_6_cm(settings, root):
    settings.NAVBAT_PUBLIC_URL = root
    code = "A" * 22
    for colour in (True, False):
        image = Image.open(io.BytesIO(printing.png(code, colour=colour)))
        qr = printing.make_qr(code)
        width = printing.modules(qr) * printing.png_scale(qr)
        assert image.size == (width, width)
        assert width >= 709
        assert width - printing.modules(qr) < 709  # the smallest whole-pixel scale
        assert image.info["dpi"][0] >= 300
        # PNG keeps whole dots per metre and segno whole dpi, rounded down: never narrower
        # than 6 cm, at most a third of a percent (0.2 mm) wider.
        assert 6.0 <= width / image.info["dpi"][0] * 2.54 <= 6.02
        assert decoded(image) == [f"{root}/q/{code}"]
