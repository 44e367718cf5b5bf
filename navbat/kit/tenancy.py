"""The one way to read tenant data: every query is scoped by business here.

Views, the API and selectors never call ``Model.objects`` on a tenant model
directly (a test in tests/kit enforces it); they go through ``scoped`` or
``get_scoped_or_404`` so that one business can never see another's rows.
"""

from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import OuterRef
from django.http import Http404

M = TypeVar("M", bound=models.Model)


class TenantModel(models.Model):
    """A row that belongs to exactly one business."""

    business = models.ForeignKey(
        settings.NAVBAT_TENANT_MODEL, on_delete=models.CASCADE, related_name="+", db_index=True
    )

    class Meta:
        abstract = True


def is_tenant_model(model: type[models.Model]) -> bool:
    return issubclass(model, TenantModel)


def scoped(
    model_or_queryset: type[M] | models.QuerySet[M] | models.Manager[M], business
) -> models.QuerySet[M]:
    """Rows of ``business`` only. ``business`` must be a saved business (never None)."""
    if business is None or getattr(business, "pk", None) is None:
        raise ValueError("scoped() needs a saved business")
    if isinstance(business, models.Model) and business._meta.label != settings.NAVBAT_TENANT_MODEL:
        # scoped(Client, request.user) would filter by the user's id: never guess.
        raise TypeError(f"scoped() needs a {settings.NAVBAT_TENANT_MODEL}, not {business!r}")
    if isinstance(model_or_queryset, models.QuerySet):
        queryset = model_or_queryset
    elif isinstance(model_or_queryset, models.Manager):
        queryset = model_or_queryset.all()
    else:
        queryset = model_or_queryset._default_manager.all()
    if not is_tenant_model(queryset.model):
        raise TypeError(f"{queryset.model.__name__} is not a tenant model")
    return queryset.filter(business_id=business.pk)


def scoped_to_outer(model: type[M], outer_business: str = "business_id") -> models.QuerySet[M]:
    """Rows of the business of the outer query's row, for a correlated subquery
    (``Exists``/``Subquery`` annotations): the same scoping as ``scoped`` when the business
    is a column of the outer query rather than a saved row."""
    if not is_tenant_model(model):
        raise TypeError(f"{model.__name__} is not a tenant model")
    return model._default_manager.filter(business_id=OuterRef(outer_business))


def get_scoped_or_404(model_or_queryset: type[M] | models.QuerySet[M], business, **lookup) -> M:
    """One row of ``business``; another business's row is indistinguishable from a missing one.

    A lookup value of the wrong type (``pk="abc"``) is a missing row too; asking for a model
    that is not a tenant model is a programming error and raises ``TypeError``.
    """
    if business is None or getattr(business, "pk", None) is None:
        raise Http404
    rows = scoped(model_or_queryset, business)
    try:
        return rows.get(**lookup)
    except (models.ObjectDoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise Http404 from exc
