"""App config of the crews' phone app."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldappConfig(AppConfig):
    name = "fieldapp"
    verbose_name = _("抢修班组手机应用")
