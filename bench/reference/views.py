import json

from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .models import Note


@csrf_exempt
@require_POST
def insert_view(request):
    """Parse a JSON body and store it: the bare cost of taking in a callback."""
    try:
        body = json.loads(request.body)
    except ValueError:
        return HttpResponseBadRequest()
    Note.objects.create(key=str(body.get("orderId", ""))[:64], body=body)
    return JsonResponse({"ok": True})


@require_GET
def select_view(request):
    """Read twenty rows and render them through a template: the bare cost of a page."""
    notes = list(Note.objects.order_by("-id")[:20])
    return render(request, "reference/list.html", {"notes": notes})
