"""Operational rows of the platform itself (not of any business)."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """One background worker, alive while ``seen_at`` keeps moving.

    ``job_id`` is written in the same transaction that claims a job, so a RUNNING job that
    no fresh heartbeat names belongs to a worker that died (see navbat.worker)."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)
    job_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return self.worker_id


class PublicCounter(models.Model):
    """Fixed-window request counters of the public pages and API (navbat.kit.ratelimit),
    shared by every web process."""

    key = models.CharField(max_length=200, unique=True)
    window_start = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.key
