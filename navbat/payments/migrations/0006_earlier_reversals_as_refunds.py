"""Payments the bank reversed before refunds existed (the Merchant API's /reverse) become
what a reversal is now: a done refund by the bank, with the fee it brought back on the
order, and the fee's reversal booked as "bank fee returned" rather than "other income". So
the online payments totals and the nightly comparison read them as they read new ones."""

import uuid

from django.db import migrations

MARK = "migrated-reversal"


def forward(apps, schema_editor):
    PaymentOrder = apps.get_model("payments", "PaymentOrder")
    Refund = apps.get_model("payments", "Refund")
    Transaction = apps.get_model("finance", "Transaction")
    Transaction.objects.filter(kind="other_income", reverses__kind="bank_fee").update(
        kind="fee_return"
    )
    earlier = PaymentOrder.objects.filter(
        state="refunded", refunded_amount__gt=0, income__isnull=False
    ).exclude(pk__in=Refund.objects.values("order_id"))
    for order in earlier.iterator():
        income = Transaction.objects.get(pk=order.income_id)
        money_back = Transaction.objects.filter(reverses_id=order.income_id).first()
        fee_back = (
            Transaction.objects.filter(reverses_id=order.fee_id).first() if order.fee_id else None
        )
        Refund.objects.create(
            business_id=order.business_id,
            order_id=order.pk,
            amount=order.refunded_amount,
            reason="Reversed by the bank",
            route="bank_reversal",
            state="done",
            register_id=income.register_id,
            operation_key=uuid.uuid4(),
            request_digest=MARK,
            transaction=money_back,
            fee_return=fee_back,
            fee_returned_amount=fee_back.amount if fee_back else 0,
            done_at=money_back.occurred_at if money_back else order.updated_at,
        )
        order.fee_returned_amount = fee_back.amount if fee_back else 0
        order.save(update_fields=["fee_returned_amount"])


def backward(apps, schema_editor):
    PaymentOrder = apps.get_model("payments", "PaymentOrder")
    Refund = apps.get_model("payments", "Refund")
    Transaction = apps.get_model("finance", "Transaction")
    made = Refund.objects.filter(request_digest=MARK)
    PaymentOrder.objects.filter(pk__in=made.values("order_id")).update(fee_returned_amount=0)
    made.delete()
    Transaction.objects.filter(kind="fee_return", reverses__kind="bank_fee").update(
        kind="other_income"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0005_refunds"),
        ("finance", "0005_desk_refunds"),
    ]

    operations = [migrations.RunPython(forward, backward)]
