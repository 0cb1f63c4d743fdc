"""Admin app config that autodiscovers every app's ``admin`` module except django-leaflet's.

``leaflet.admin`` imports GeoDjango form widgets, which need the GDAL C library. The project
stores WGS-84 coordinates as plain floats and GeoJSON, so it uses django-leaflet only for its
template tags and static files, and the GDAL dependency is not worth installing.
"""

from importlib import import_module

from django.apps import apps
from django.contrib.admin.apps import SimpleAdminConfig
from django.utils.module_loading import module_has_submodule

SKIPPED = frozenset({"leaflet"})


class AdminConfig(SimpleAdminConfig):
    default_site = "django.contrib.admin.sites.AdminSite"

    def ready(self) -> None:
        super().ready()
        for app_config in apps.get_app_configs():
            if app_config.name in SKIPPED:
                continue
            if module_has_submodule(app_config.module, "admin"):
                import_module(f"{app_config.name}.admin")
