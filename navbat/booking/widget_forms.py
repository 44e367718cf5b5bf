"""What the booking widget's addresses and forms carry, read and bounded (F6).

The widget keeps no session: every step is an address whose parameters say what the client
chose so far, so the back button, a shared link and an embedded frame (where the browser
sends no cookie) all work the same way.

- ``s``: a service's id, repeated, in the order the client chose them;
- ``p``: ``any`` or a specialist's id;
- ``m``: the month the calendar shows (``YYYY-MM``); ``d``: the day (``YYYY-MM-DD``);
- ``t``: the time on that day (``HH:MM``, the location's wall clock);
- ``lang``: a language the client picked; ``embed=1``: shown in a frame on the salon's site.

Anything malformed is reported, never raised: the page says what is wrong in the client's
language.
"""

import re
from dataclasses import dataclass, field, replace
from datetime import date, time
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .availability import MAX_SERVICES
from .online import COMMENT_MAX, NAME_MAX

ANY = "any"
ID_RE = re.compile(r"[1-9][0-9]{0,11}")
DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MONTH_RE = re.compile(r"[0-9]{4}-[0-9]{2}")
TIME_RE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
# Repeated ``s`` values read at most (a longer list is an error, not a longer loop).
MAX_LISTED = MAX_SERVICES + 1


def languages() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


@dataclass(frozen=True)
class Pick:
    """The client's choices so far, as the address carries them."""

    service_ids: tuple[int, ...] = ()
    specialist: str = ""  # "", ANY or a specialist's id as digits
    month: date | None = None  # the first day of the month shown
    day: date | None = None
    at: time | None = None
    lang: str = ""
    embed: bool = False
    errors: dict = field(default_factory=dict, compare=False)

    @property
    def specialist_id(self) -> int | None:
        return int(self.specialist) if self.specialist and self.specialist != ANY else None

    def but(self, **changes) -> "Pick":
        return replace(self, errors={}, **changes)

    def params(self) -> list[tuple[str, str]]:
        pairs = [("s", str(pk)) for pk in self.service_ids]
        if self.specialist:
            pairs.append(("p", self.specialist))
        if self.month:
            pairs.append(("m", self.month.strftime("%Y-%m")))
        if self.day:
            pairs.append(("d", self.day.isoformat()))
        if self.at:
            pairs.append(("t", self.at.strftime("%H:%M")))
        if self.lang:
            pairs.append(("lang", self.lang))
        if self.embed:
            pairs.append(("embed", "1"))
        return pairs

    def query(self, **changes) -> str:
        """``?…`` for this pick with ``changes`` (None drops a parameter)."""
        pick = self.but(**changes) if changes else self
        encoded = urlencode(pick.params())
        return f"?{encoded}" if encoded else ""


def _month(text: str) -> date | None:
    if not MONTH_RE.fullmatch(text):
        return None
    year, month = int(text[:4]), int(text[5:])
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        return None
    return date(year, month, 1)


def _day(text: str) -> date | None:
    if not DAY_RE.fullmatch(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


def _time(text: str) -> time | None:
    match = TIME_RE.fullmatch(text)
    return time(int(match[1]), int(match[2])) if match else None


def read_pick(params) -> Pick:
    """The pick an address (or a form) carries; ``errors`` by parameter for what is bad."""
    errors = {}
    raw_services = params.getlist("s")[:MAX_LISTED]
    service_ids: list[int] = []
    for raw in raw_services:
        if not ID_RE.fullmatch(raw or ""):
            errors["services"] = _("One of the services cannot be booked online.")
            break
        service_ids.append(int(raw))
    if len(service_ids) > MAX_SERVICES:
        errors["services"] = _("Choose at most %(count)s services.") % {"count": MAX_SERVICES}
        service_ids = service_ids[:MAX_SERVICES]
    # A service added twice (a link followed twice) counts once, where it was first chosen.
    service_ids = list(dict.fromkeys(service_ids))
    specialist = (params.get("p") or "")[:14]
    if specialist and specialist != ANY and not ID_RE.fullmatch(specialist):
        errors["specialist"] = _("This specialist does not take these services online here.")
        specialist = ""
    month_text, day_text, time_text = (
        (params.get("m") or "")[:10],
        (params.get("d") or "")[:12],
        (params.get("t") or "")[:8],
    )
    month = _month(month_text) if month_text else None
    if month_text and month is None:
        errors["month"] = _("Choose a month in the calendar.")
    day = _day(day_text) if day_text else None
    if day_text and day is None:
        errors["day"] = _("Choose a day in the calendar.")
    at = _time(time_text) if time_text else None
    if time_text and at is None:
        errors["time"] = _("Choose one of the times offered.")
    lang = params.get("lang") or ""
    return Pick(
        service_ids=tuple(service_ids),
        specialist=specialist,
        month=month,
        day=day,
        at=at,
        lang=lang if lang in languages() else "",
        embed=params.get("embed") == "1",
        errors=errors,
    )


class DetailsForm(forms.Form):
    """The last step: who books. Lengths are bounded here; ``online.book_online`` checks
    and normalises the values and says what is wrong with them."""

    name = forms.CharField(
        label=gettext_lazy("Your name"),
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "tel", "inputmode": "tel", "placeholder": "+998 90 123 45 67"}
        ),
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment for the salon"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    terms = forms.BooleanField(label=gettext_lazy("I accept the salon's terms"), required=False)
    # The honeypot: hidden by the stylesheet, left empty by people, filled by bots.
    website = forms.CharField(
        label=gettext_lazy("Leave this field empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    code = forms.CharField(
        label=gettext_lazy("Code"),
        required=False,
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": "6"}
        ),
    )
    phone_check = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def filled_honeypot(self) -> bool:
        return bool((self.data.get("website") or "").strip())
