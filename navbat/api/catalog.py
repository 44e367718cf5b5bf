"""The catalog: services and products (read only)."""

from django.http import HttpRequest
from ninja import Query, Router

from navbat.kit.tenancy import get_scoped_or_404
from navbat.salons import selectors

from .schemas import (
    READ_ERRORS,
    CatalogQuery,
    ProductOut,
    ProductPage,
    ServiceOut,
    ServicePage,
    id_path,
    paginate,
)

router = Router(tags=["catalog"])


def _service_out(service) -> dict:
    return {
        "id": service.pk,
        "category_id": service.category_id,
        "category": service.category.name if service.category else None,
        "name": service.name,
        "description": service.description,
        "price": service.price,
        "price_max": service.price_max,
        "duration_minutes": service.duration_minutes,
        "is_active": service.is_active,
        "ikpu_code": service.ikpu_code,
        "package_code": service.package_code,
        "vat_percent": service.vat_percent,
    }


def _filtered(rows, query: CatalogQuery):
    return rows if query.active is None else rows.filter(is_active=query.active)


@router.get("/services", response={200: ServicePage, **READ_ERRORS})
def list_services(request: HttpRequest, query: Query[CatalogQuery]):
    page = paginate(_filtered(selectors.services(business=request.auth), query), query)
    page["items"] = [_service_out(row) for row in page["items"]]
    return page


@router.get("/services/{service_id}", response={200: ServiceOut, **READ_ERRORS})
def read_service(request: HttpRequest, service_id: id_path("service")):
    rows = selectors.services(business=request.auth)
    return _service_out(get_scoped_or_404(rows, request.auth, pk=service_id))


@router.get("/products", response={200: ProductPage, **READ_ERRORS})
def list_products(request: HttpRequest, query: Query[CatalogQuery]):
    return paginate(_filtered(selectors.products(business=request.auth), query), query)


@router.get("/products/{product_id}", response={200: ProductOut, **READ_ERRORS})
def read_product(request: HttpRequest, product_id: id_path("product")):
    rows = selectors.products(business=request.auth)
    return get_scoped_or_404(rows, request.auth, pk=product_id)
