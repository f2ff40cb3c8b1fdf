from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from core.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Platform"), {"fields": ("display_name", "preferred_language", "nickname", "show_nickname", "email_off")}),
    )
    list_display = ("username", "display_name", "email", "preferred_language", "is_staff", "is_active")
    list_filter = (*BaseUserAdmin.list_filter, "preferred_language")
