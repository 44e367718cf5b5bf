"""The sandbox bank's hosted payment page: ``<root>/sandbox/uzum/pay/<orderId>/``.

What Uzum's ``paymentRedirectUrl`` shows a client: the merchant and the amount in the
order's language, a card form, the 3-D Secure code page, then success (back to
``successUrl``) or a decline (another card may be tried; back to ``failureUrl``). "Close"
sends the FORM_CLOSED event callback and returns to ``failureUrl``.

The page is the bank's own site, so its forms carry no navbat CSRF token; a double
submission is harmless because every step takes the order's row lock in ``bank.py`` and
checks the order's state first. Its strings are the bank's, per language, below (navbat's
translations are not the bank's).
"""

from contextlib import suppress

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import bank, cards
from .models import Order, OrderStatus

LANGUAGES = {"ru-RU": "ru", "uz-UZ": "uz", "en-EN": "en"}
DEFAULT_LANGUAGE = "ru"

TEXT = {
    "en": {
        "title": "Payment",
        "sandbox": "Uzum Bank sandbox: test cards only, no real money moves.",
        "merchant": "Merchant",
        "order": "Order",
        "details": "Purpose",
        "amount": "Amount",
        "card_number": "Card number",
        "expiry": "Valid thru (MM/YY)",
        "cvv": "CVV",
        "pay": "Pay",
        "close": "Close",
        "card_required": "Enter the card number.",
        "test_cards": "Test cards",
        "test_cards_hint": "Any expiry date and CVV will do; only the number matters.",
        "scheme": "Scheme",
        "card": "Card",
        "outcome": "Outcome",
        "succeeds": "succeeds",
        "asks_code": "asks for the 3-D Secure code 777777, then succeeds",
        "declines": "declines",
        "three_ds_title": "3-D Secure confirmation",
        "three_ds_hint": "Enter the code the bank sent by SMS for card {card}.",
        "three_ds_sandbox": "In the sandbox the code is 777777; any other code declines.",
        "code": "Code",
        "confirm": "Confirm",
        "success_title": "Payment successful",
        "success_text": "You will be returned to the merchant in a moment.",
        "back": "Return to the merchant",
        "failure_title": "Payment declined",
        "reason": "Reason",
        "try_again": "Try another card",
        "expired_title": "The payment session has expired",
        "expired_text": "This payment link is no longer valid. Return to the merchant and "
        "start the payment again.",
        "paid_title": "This order is already paid",
        "paid_text": "There is nothing more to pay.",
        "closed_title": "The payment was cancelled",
        "closed_text": "You closed the payment form.",
        "state_title": "This order can no longer be paid",
        "state_text": "Its status is {status}.",
        "not_found_title": "Payment not found",
        "not_found_text": "The payment link is wrong or the order does not exist.",
        "currency": "so'm",
    },
    "ru": {
        "title": "Оплата",
        "sandbox": "Песочница Uzum Bank: только тестовые карты, настоящие деньги не списываются.",
        "merchant": "Продавец",
        "order": "Заказ",
        "details": "Назначение",
        "amount": "Сумма",
        "card_number": "Номер карты",
        "expiry": "Срок действия (ММ/ГГ)",
        "cvv": "CVV",
        "pay": "Оплатить",
        "close": "Закрыть",
        "card_required": "Введите номер карты.",
        "test_cards": "Тестовые карты",
        "test_cards_hint": "Срок действия и CVV — любые; важен только номер.",
        "scheme": "Система",
        "card": "Карта",
        "outcome": "Результат",
        "succeeds": "успешно",
        "asks_code": "запросит код 3-D Secure 777777, затем успешно",
        "declines": "отказ",
        "three_ds_title": "Подтверждение 3-D Secure",
        "three_ds_hint": "Введите код из SMS, отправленный банком для карты {card}.",
        "three_ds_sandbox": "В песочнице код — 777777; любой другой код приведёт к отказу.",
        "code": "Код",
        "confirm": "Подтвердить",
        "success_title": "Оплата прошла успешно",
        "success_text": "Сейчас вы вернётесь к продавцу.",
        "back": "Вернуться к продавцу",
        "failure_title": "Оплата отклонена",
        "reason": "Причина",
        "try_again": "Попробовать другую карту",
        "expired_title": "Время на оплату истекло",
        "expired_text": "Ссылка на оплату больше не действует. Вернитесь к продавцу и "
        "начните оплату заново.",
        "paid_title": "Этот заказ уже оплачен",
        "paid_text": "Больше ничего оплачивать не нужно.",
        "closed_title": "Оплата отменена",
        "closed_text": "Вы закрыли форму оплаты.",
        "state_title": "Этот заказ больше нельзя оплатить",
        "state_text": "Его статус: {status}.",
        "not_found_title": "Платёж не найден",
        "not_found_text": "Ссылка на оплату неверна или заказа не существует.",
        "currency": "сум",
    },
    "uz": {
        "title": "To'lov",
        "sandbox": "Uzum Bank sinov muhiti: faqat test kartalar, haqiqiy pul yechilmaydi.",
        "merchant": "Sotuvchi",
        "order": "Buyurtma",
        "details": "To'lov maqsadi",
        "amount": "Summa",
        "card_number": "Karta raqami",
        "expiry": "Amal qilish muddati (OO/YY)",
        "cvv": "CVV",
        "pay": "To'lash",
        "close": "Yopish",
        "card_required": "Karta raqamini kiriting.",
        "test_cards": "Test kartalar",
        "test_cards_hint": "Muddat va CVV ixtiyoriy; faqat raqam ahamiyatli.",
        "scheme": "Tizim",
        "card": "Karta",
        "outcome": "Natija",
        "succeeds": "muvaffaqiyatli",
        "asks_code": "3-D Secure kodi 777777 so'raladi, so'ng muvaffaqiyatli",
        "declines": "rad etiladi",
        "three_ds_title": "3-D Secure tasdig'i",
        "three_ds_hint": "Bank {card} karta uchun SMS orqali yuborgan kodni kiriting.",
        "three_ds_sandbox": "Sinov muhitida kod 777777; boshqa kod rad etiladi.",
        "code": "Kod",
        "confirm": "Tasdiqlash",
        "success_title": "To'lov muvaffaqiyatli o'tdi",
        "success_text": "Hozir sotuvchi sahifasiga qaytasiz.",
        "back": "Sotuvchiga qaytish",
        "failure_title": "To'lov rad etildi",
        "reason": "Sabab",
        "try_again": "Boshqa karta bilan urinish",
        "expired_title": "To'lov vaqti tugadi",
        "expired_text": "Bu to'lov havolasi endi amal qilmaydi. Sotuvchiga qayting va "
        "to'lovni qaytadan boshlang.",
        "paid_title": "Bu buyurtma allaqachon to'langan",
        "paid_text": "Boshqa to'lash kerak emas.",
        "closed_title": "To'lov bekor qilindi",
        "closed_text": "Siz to'lov shaklini yopdingiz.",
        "state_title": "Bu buyurtmani endi to'lab bo'lmaydi",
        "state_text": "Uning holati: {status}.",
        "not_found_title": "To'lov topilmadi",
        "not_found_text": "To'lov havolasi noto'g'ri yoki buyurtma mavjud emas.",
        "currency": "so'm",
    },
}

REASONS = {
    "en": {
        3008: "Insufficient funds on the card",
        3009: "Rejected by the bank's antifraud check",
        3011: "Rejected by the card's issuer",
        3012: "Wrong 3-D Secure code",
        3013: "Unknown card",
        None: "The payment was declined",
    },
    "ru": {
        3008: "Недостаточно средств на карте",
        3009: "Отклонено антифрод-проверкой банка",
        3011: "Отклонено банком-эмитентом карты",
        3012: "Неверный код 3-D Secure",
        3013: "Неизвестная карта",
        None: "Оплата отклонена",
    },
    "uz": {
        3008: "Kartada mablag' yetarli emas",
        3009: "Bankning antifrod tekshiruvi rad etdi",
        3011: "Karta emitent banki rad etdi",
        3012: "3-D Secure kodi noto'g'ri",
        3013: "Noma'lum karta",
        None: "To'lov rad etildi",
    },
}

PAID = (OrderStatus.COMPLETED, OrderStatus.AUTHORIZED)


def language_of(order: Order | None) -> str:
    return LANGUAGES.get(order.language, DEFAULT_LANGUAGE) if order else DEFAULT_LANGUAGE


def format_som(tiyin: int, currency: str = "so'm") -> str:
    """``15000000`` → ``150 000 so'm`` (grouped with plain spaces)."""
    sign = "-" if tiyin < 0 else ""
    whole, part = divmod(abs(int(tiyin)), 100)
    grouped = f"{whole:,}".replace(",", " ")
    return f"{sign}{grouped}{f'.{part:02d}' if part else ''} {currency}"


def group_digits(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def _context(order: Order | None, **extra) -> dict:
    lang = language_of(order)
    text = TEXT[lang]
    context = {"t": text, "lang": lang, "order": order}
    if order is not None:
        context["amount"] = format_som(order.amount, text["currency"])
        context["merchant_name"] = order.terminal.merchant_name
    context.update(extra)
    return context


def _load(order_id) -> Order | None:
    return Order.objects.select_related("terminal").filter(order_id=order_id).first()


def _not_found(request: HttpRequest) -> HttpResponse:
    context = _context(None)
    text = context["t"]
    context.update(heading=text["not_found_title"], message=text["not_found_text"])
    return render(request, "uzum_sandbox/pay_state.html", context, status=404)


def _state_page(request: HttpRequest, order: Order) -> HttpResponse | None:
    """The page of an order that cannot be paid any more (expired, paid, closed…)."""
    context = _context(order)
    text = context["t"]
    if bank.is_expired(order):
        context.update(
            heading=text["expired_title"],
            message=text["expired_text"],
            back_url=order.failure_url,
            kind="expired",
        )
    elif order.status in PAID:
        context.update(
            heading=text["paid_title"],
            message=text["paid_text"],
            back_url=order.success_url,
            kind="paid",
        )
    elif order.status != OrderStatus.REGISTERED:
        context.update(
            heading=text["state_title"],
            message=text["state_text"].format(status=order.status),
            back_url=order.failure_url,
            kind="state",
        )
    else:
        return None
    return render(request, "uzum_sandbox/pay_state.html", context)


def test_cards(lang: str) -> list[dict]:
    text = TEXT[lang]
    rows = []
    for card in cards.CARDS:
        if card.decline_code:
            outcome = f"{text['declines']} {card.decline_code}: {REASONS[lang][card.decline_code]}"
        elif card.three_ds:
            outcome = text["asks_code"]
        else:
            outcome = text["succeeds"]
        rows.append(
            {
                "number": card.number,
                "display": group_digits(card.number),
                "ips": card.ips,
                "label": card.label,
                "outcome": outcome,
                "declines": bool(card.decline_code),
            }
        )
    return rows


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, order_id) -> HttpResponse:
    order = _load(order_id)
    if order is None:
        return _not_found(request)
    error = ""
    if request.method == "POST":
        number = "".join(ch for ch in request.POST.get("card_number", "") if ch.isdigit())
        if number:
            try:
                order, needs_code = bank.start_card_payment(
                    order_id=order.order_id, card_number=number
                )
            except bank.BankError:  # expired, paid meanwhile (a double submission)…
                return redirect("sandbox-pay-done", order_id=order.order_id)
            if needs_code:
                return redirect("sandbox-pay-3ds", order_id=order.order_id)
            return redirect("sandbox-pay-done", order_id=order.order_id)
        error = TEXT[language_of(order)]["card_required"]
    state = _state_page(request, order)
    if state is not None:
        return state
    lang = language_of(order)
    context = _context(
        order,
        error=error,
        cards=test_cards(lang),
        card_number=request.POST.get("card_number", ""),
    )
    return render(request, "uzum_sandbox/pay_form.html", context)


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def three_ds(request: HttpRequest, order_id) -> HttpResponse:
    order = _load(order_id)
    if order is None:
        return _not_found(request)
    if order.status != OrderStatus.REGISTERED or bank.is_expired(order):
        return redirect("sandbox-pay-done", order_id=order.order_id)
    if not order.pending_card:
        return redirect("sandbox-pay", order_id=order.order_id)
    if request.method == "POST":
        code = request.POST.get("code", "").strip()
        # Paid or expired meanwhile (a double submission): the result page says which.
        with suppress(bank.BankError):
            bank.finish_three_ds(order_id=order.order_id, code=code)
        return redirect("sandbox-pay-done", order_id=order.order_id)
    card = cards.find(order.pending_card)
    masked = card.masked if card else order.pending_card
    text = TEXT[language_of(order)]
    context = _context(order, hint=text["three_ds_hint"].format(card=masked))
    return render(request, "uzum_sandbox/pay_3ds.html", context)


@xframe_options_exempt
@require_http_methods(["GET"])
def done(request: HttpRequest, order_id) -> HttpResponse:
    """Where the card form and the code page lead: success, decline, or the order's state."""
    order = _load(order_id)
    if order is None:
        return _not_found(request)
    lang = language_of(order)
    text = TEXT[lang]
    if order.status in PAID:
        context = _context(order, back_url=order.success_url, masked_pan=order.masked_pan)
        return render(request, "uzum_sandbox/pay_success.html", context)
    state = _state_page(request, order)
    if state is not None:
        return state
    if order.action_code:  # the last attempt was declined; the order stays REGISTERED
        reason = REASONS[lang].get(order.action_code, REASONS[lang][None])
        context = _context(
            order,
            back_url=order.failure_url,
            reason=reason,
            action_code=order.action_code,
            heading=text["failure_title"],
        )
        return render(request, "uzum_sandbox/pay_failure.html", context)
    return redirect("sandbox-pay", order_id=order.order_id)


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["POST"])
def close(request: HttpRequest, order_id) -> HttpResponse:
    """The client closed the form: the FORM_CLOSED event, then back to ``failureUrl``."""
    order = _load(order_id)
    if order is None:
        return _not_found(request)
    if order.status == OrderStatus.REGISTERED and not bank.is_expired(order):
        bank.close_form(order_id=order.order_id)
    if order.failure_url:
        return HttpResponseRedirect(order.failure_url)
    context = _context(order)
    text = context["t"]
    context.update(heading=text["closed_title"], message=text["closed_text"], kind="closed")
    return render(request, "uzum_sandbox/pay_state.html", context)
