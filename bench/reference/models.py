from django.db import models


class Note(models.Model):
    """One row per INSERT request: about the size of a bank callback."""

    key = models.CharField(max_length=64)
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["key"])]
