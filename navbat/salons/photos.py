"""A specialist's photo for the booking widget (F6): any common picture in, a small square
JPEG out. What is stored is made here from the picture's pixels, never the file as sent, so
nothing but pixels (no metadata, no location, no script) ever leaves navbat again.
"""

import io

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

PHOTO_SIDE = 256
PHOTO_MAX_BYTES = 96 * 1024  # what is stored; a 256 px JPEG is some 10–30 KB
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}  # MPO: a phone camera's JPEG with a second view
# A picture's file may be small and its pixels many (a "decompression bomb"): refused
# before its pixels are read. 50 megapixels is more than any phone camera takes.
MAX_PIXELS = 50_000_000
UPLOAD_MAX_BYTES = 8 * 1024 * 1024
# What a multipart body adds around the file (boundaries, the other fields, the token).
MULTIPART_ROOM = 16 * 1024
QUALITIES = (85, 75, 60)


def photo_upload_limit() -> int:
    """The largest file a page may send: within the server's limit on a request's body."""
    return min(UPLOAD_MAX_BYTES, settings.NAVBAT_MAX_REQUEST_BYTES - MULTIPART_ROOM)


def _not_a_picture() -> ValidationError:
    return ValidationError(
        {"photo": _("This file is not a picture navbat can read. Choose a JPEG, PNG or WebP.")},
        code="not_an_image",
    )


def too_big_message(limit: int) -> str:
    size = f"{limit / 1024 / 1024:.1f}".rstrip("0").rstrip(".")
    return _("The file is too big: at most %(size)s MB.") % {"size": size}


def _too_big(limit: int) -> ValidationError:
    return ValidationError({"photo": too_big_message(limit)}, code="too_big")


def read_upload(upload) -> bytes:
    """The uploaded file's bytes, refused past the limit without reading more than it."""
    limit = photo_upload_limit()
    if upload is None:
        raise _not_a_picture()
    if upload.size is not None and upload.size > limit:
        raise _too_big(limit)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _too_big(limit)
    if not data:
        raise _not_a_picture()
    return data


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, a transparent background made white (a JPEG has no transparency)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def square_jpeg(data: bytes) -> bytes:
    """The picture's centre as a square JPEG of at most PHOTO_SIDE px a side (smaller
    pictures are not enlarged), turned the way the camera held it."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in FORMATS:
                raise _not_a_picture()
            width, height = image.size
            if width < 1 or height < 1 or width * height > MAX_PIXELS:
                raise _not_a_picture()
            # A JPEG can be decoded at 1/2 … 1/8 of its size: far less work for a big photo.
            image.draft("RGB", (PHOTO_SIDE * 2, PHOTO_SIDE * 2))
            image = ImageOps.exif_transpose(image)
            image = _flatten(image)
            side = min(PHOTO_SIDE, *image.size)
            image = ImageOps.fit(image, (side, side), method=Image.Resampling.LANCZOS)
            for quality in QUALITIES:
                out = io.BytesIO()
                image.save(out, format="JPEG", quality=quality, optimize=True)
                if out.tell() <= PHOTO_MAX_BYTES:
                    return out.getvalue()
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        # Pillow's readers raise these (and SyntaxError, for some broken files) on input
        # that is not the picture it claims to be.
        raise _not_a_picture() from None
    raise _not_a_picture()  # no 256 px JPEG is this large: something is wrong with it
