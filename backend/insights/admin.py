from __future__ import annotations

from django.contrib import admin

from .models import Projection, RunLabel

admin.site.register(RunLabel)
admin.site.register(Projection)
