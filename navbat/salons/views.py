"""Administration pages for clients, specialists and the catalog (services, products).

Views are thin: a form checks the input, a service writes, a selector reads. Every
object is looked up through ``get_scoped_or_404`` before anything else, so another
business's id is a 404 whatever the method.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _

from navbat.accounts.permissions import business_required, manager_required
from navbat.kit.forms import add_service_errors
from navbat.kit.tenancy import get_scoped_or_404
from navbat.kit.timeutil import local_today

from . import selectors, services
from .forms import (
    CategoryForm,
    ClientForm,
    ProductForm,
    ScheduleExceptionForm,
    ServiceForm,
    SpecialistForm,
    SpecialistPhotoForm,
)
from .models import Client, Product, ScheduleException, Service, ServiceCategory, Specialist

PAGE_SIZE = 50
HISTORY_SIZE = 50  # visits and payments shown on a client's page
EXCEPTIONS_SINCE_DAYS = 31  # past schedule exceptions still listed on a specialist's page

GET_POST = ("GET", "POST")


def _not_allowed(request, allowed=GET_POST):
    return None if request.method in allowed else HttpResponseNotAllowed(allowed)


def _saved(form, save, instance=None) -> object | None:
    """Call ``save`` when the form is valid; a service's ValidationError lands on the form.

    ``instance`` (the row being edited) is reloaded after a refusal, so the page never
    shows values that were not stored.
    """
    if not form.is_valid():
        return None
    try:
        return save(form.cleaned_data)
    except ValidationError as exc:
        add_service_errors(form, exc)
        if instance is not None:
            instance.refresh_from_db()
        return None


def _status(request) -> int:
    return 400 if request.method == "POST" else 200


# --- Clients ---------------------------------------------------------------------------------


@manager_required
def client_list_view(request):
    if refused := _not_allowed(request, ("GET",)):
        return refused
    search = request.GET.get("q", "").strip()[:100]
    rows = selectors.clients(business=request.business, search=search)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "salons/client_list.html",
        {"nav": "clients", "page": page, "search": search},
    )


def _client_editor(request, client: Client | None):
    if request.method == "POST":
        form = ClientForm(request.POST)
    else:
        form = ClientForm(initial=ClientForm.initial_for(client) if client else None)

    def save(data):
        if client is None:
            return services.create_client(business=request.business, **data)
        return services.update_client(client=client, **data)

    saved = _saved(form, save, client) if request.method == "POST" else None
    if saved is not None:
        messages.success(request, _("The client is saved."))
        return redirect("salons:client", client_id=saved.pk)
    return render(
        request,
        "salons/client_form.html",
        {"nav": "clients", "form": form, "client": client},
        status=_status(request),
    )


@manager_required
def client_new_view(request):
    return _not_allowed(request) or _client_editor(request, None)


@manager_required
def client_edit_view(request, client_id: int):
    client = get_scoped_or_404(Client, request.business, pk=client_id)
    return _not_allowed(request) or _client_editor(request, client)


@manager_required
def client_detail_view(request, client_id: int):
    client = get_scoped_or_404(Client, request.business, pk=client_id)
    if refused := _not_allowed(request, ("GET",)):
        return refused
    # The visits, payments and links on this page come from the rooms above (kit.slots):
    # salons know nothing of booking or finance.
    return render(
        request,
        "salons/client_detail.html",
        {"nav": "clients", "client": client, "history_size": HISTORY_SIZE},
    )


# --- Specialists -----------------------------------------------------------------------------


@manager_required
def specialist_list_view(request):
    if refused := _not_allowed(request, ("GET",)):
        return refused
    return render(
        request,
        "salons/specialist_list.html",
        {
            "nav": "catalog",
            "sub": "specialists",
            "specialists": selectors.specialists_overview(business=request.business),
        },
    )


def _specialist_page(
    request, specialist, *, form=None, exception_form=None, photo_form=None, status=200
):
    business = request.business
    if form is None:
        initial = (
            SpecialistForm.initial_for(specialist, selectors.weekly_schedule(specialist=specialist))
            if specialist
            else SpecialistForm.initial_new()
        )
        form = SpecialistForm(business=business, initial=initial)
    context = {"nav": "catalog", "sub": "specialists", "form": form, "specialist": specialist}
    if specialist is not None:
        since = local_today(specialist.location.timezone) - timedelta(days=EXCEPTIONS_SINCE_DAYS)
        context["exceptions"] = selectors.schedule_exceptions(specialist=specialist, since=since)
        context["exception_form"] = exception_form or ScheduleExceptionForm()
        context["photo_form"] = photo_form or SpecialistPhotoForm()
    return render(request, "salons/specialist_form.html", context, status=status)


def _specialist_editor(request, specialist: Specialist | None):
    if request.method != "POST":
        return _specialist_page(request, specialist)
    form = SpecialistForm(request.POST, business=request.business)

    def save(data):
        fields = {
            "name": data["name"],
            "position": data["position"],
            "location": data["location"],
            "is_active": data["is_active"],
            "services": data["services"],
            "week": data["week"],
            "prepayment": data["prepayment"],
            "bookable_online": data["bookable_online"],
        }
        new = Specialist(business=request.business)
        return services.save_specialist(specialist=specialist or new, **fields)

    saved = _saved(form, save, specialist)
    if saved is None:
        return _specialist_page(request, specialist, form=form, status=400)
    messages.success(request, _("The specialist is saved."))
    return redirect("salons:specialist_edit", specialist_id=saved.pk)


@manager_required
def specialist_new_view(request):
    return _not_allowed(request) or _specialist_editor(request, None)


@manager_required
def specialist_edit_view(request, specialist_id: int):
    specialist = get_scoped_or_404(
        selectors.specialists(business=request.business), request.business, pk=specialist_id
    )
    return _not_allowed(request) or _specialist_editor(request, specialist)


@manager_required
def schedule_exception_add_view(request, specialist_id: int):
    specialist = get_scoped_or_404(
        selectors.specialists(business=request.business), request.business, pk=specialist_id
    )
    if refused := _not_allowed(request, ("POST",)):
        return refused
    form = ScheduleExceptionForm(request.POST)

    def save(data):
        return services.set_schedule_exception(
            specialist=specialist,
            day=data["day"],
            is_day_off=data["is_day_off"],
            starts=data.get("starts"),
            ends=data.get("ends"),
            note=data.get("note", ""),
        )

    if _saved(form, save) is None:
        return _specialist_page(request, specialist, exception_form=form, status=400)
    messages.success(request, _("The schedule exception is saved."))
    return redirect("salons:specialist_edit", specialist_id=specialist.pk)


@manager_required
def schedule_exception_remove_view(request, exception_id: int):
    exception = get_scoped_or_404(ScheduleException, request.business, pk=exception_id)
    if refused := _not_allowed(request, ("POST",)):
        return refused
    services.remove_schedule_exception(exception=exception)
    messages.success(request, _("The schedule exception is removed."))
    return redirect("salons:specialist_edit", specialist_id=exception.specialist_id)


@manager_required
def specialist_photo_view(request, specialist_id: int):
    """Upload a new photo (``photo-photo``) or remove the one there (``remove``)."""
    specialist = get_scoped_or_404(
        selectors.specialists(business=request.business), request.business, pk=specialist_id
    )
    if refused := _not_allowed(request, ("POST",)):
        return refused
    if "remove" in request.POST:
        services.remove_specialist_photo(specialist=specialist)
        messages.success(request, _("The photo is removed."))
        return redirect("salons:specialist_edit", specialist_id=specialist.pk)
    form = SpecialistPhotoForm(request.POST, request.FILES)

    def save(_data):
        return services.set_specialist_photo(
            specialist=specialist, upload=form.cleaned_data["photo"]
        )

    if _saved(form, save) is None:
        return _specialist_page(request, specialist, photo_form=form, status=400)
    messages.success(request, _("The photo is saved."))
    return redirect("salons:specialist_edit", specialist_id=specialist.pk)


@business_required
def specialist_photo_file_view(request, specialist_id: int):
    """The photo itself, to the salon's own people (the widget serves its own copy to
    clients); without one, a drawn silhouette. Pages link it with the time it was saved
    (``?v=``): a new photo, a new address."""
    if refused := _not_allowed(request, ("GET",)):
        return refused
    specialist = get_scoped_or_404(
        selectors.specialists(business=request.business), request.business, pk=specialist_id
    )
    if not specialist.photo:
        return redirect(static("salons/no-photo.svg"))
    return HttpResponse(bytes(specialist.photo), content_type="image/jpeg")


# --- Services and categories -----------------------------------------------------------------


@manager_required
def service_list_view(request):
    if refused := _not_allowed(request, ("GET",)):
        return refused
    return render(
        request,
        "salons/service_list.html",
        {
            "nav": "catalog",
            "sub": "services",
            "groups": selectors.services_by_category(business=request.business),
        },
    )


def _service_editor(request, service: Service | None):
    business = request.business
    if request.method == "POST":
        form = ServiceForm(request.POST, business=business)
    else:
        initial = (
            ServiceForm.initial_for(service)
            if service
            else {"category": request.GET.get("category", "")}
        )
        form = ServiceForm(business=business, initial=initial)

    def save(_data):
        new = Service(business=business)
        return services.save_service(service=service or new, **form.service_fields())

    if request.method == "POST" and _saved(form, save, service) is not None:
        messages.success(request, _("The service is saved."))
        return redirect("salons:services")
    return render(
        request,
        "salons/service_form.html",
        {"nav": "catalog", "sub": "services", "form": form, "service": service},
        status=_status(request),
    )


@manager_required
def service_new_view(request):
    return _not_allowed(request) or _service_editor(request, None)


@manager_required
def service_edit_view(request, service_id: int):
    service = get_scoped_or_404(Service, request.business, pk=service_id)
    return _not_allowed(request) or _service_editor(request, service)


def _category_editor(request, category: ServiceCategory | None):
    if request.method == "POST":
        form = CategoryForm(request.POST)
    else:
        initial = {"name": category.name, "position": category.position} if category else None
        form = CategoryForm(initial=initial)

    def save(data):
        new = ServiceCategory(business=request.business)
        return services.save_category(category=category or new, **data)

    if request.method == "POST" and _saved(form, save, category) is not None:
        messages.success(request, _("The category is saved."))
        return redirect("salons:services")
    return render(
        request,
        "salons/category_form.html",
        {"nav": "catalog", "sub": "services", "form": form, "category": category},
        status=_status(request),
    )


@manager_required
def category_new_view(request):
    return _not_allowed(request) or _category_editor(request, None)


@manager_required
def category_edit_view(request, category_id: int):
    category = get_scoped_or_404(ServiceCategory, request.business, pk=category_id)
    return _not_allowed(request) or _category_editor(request, category)


# --- Products --------------------------------------------------------------------------------


@manager_required
def product_list_view(request):
    if refused := _not_allowed(request, ("GET",)):
        return refused
    return render(
        request,
        "salons/product_list.html",
        {
            "nav": "catalog",
            "sub": "products",
            "products": selectors.products(business=request.business),
        },
    )


def _product_editor(request, product: Product | None):
    if request.method == "POST":
        form = ProductForm(request.POST)
    else:
        form = ProductForm(initial=ProductForm.initial_for(product) if product else None)

    def save(data):
        new = Product(business=request.business)
        return services.save_product(product=product or new, **data)

    if request.method == "POST" and _saved(form, save, product) is not None:
        messages.success(request, _("The product is saved."))
        return redirect("salons:products")
    return render(
        request,
        "salons/product_form.html",
        {"nav": "catalog", "sub": "products", "form": form, "product": product},
        status=_status(request),
    )


@manager_required
def product_new_view(request):
    return _not_allowed(request) or _product_editor(request, None)


@manager_required
def product_edit_view(request, product_id: int):
    product = get_scoped_or_404(Product, request.business, pk=product_id)
    return _not_allowed(request) or _product_editor(request, product)
