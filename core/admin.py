from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.models import ApiToken, User
from core.services import token_revoke


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Platform"), {"fields": ("display_name", "preferred_language", "nickname", "show_nickname", "email_off")}),
    )
    list_display = ("username", "display_name", "email", "preferred_language", "is_staff", "is_active")
    list_filter = (*BaseUserAdmin.list_filter, "preferred_language")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Administrators see every token and can revoke a leaked one; only its owner can make one (the
    key is shown to them once), so nothing here adds or edits."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("key_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            token_revoke(token=token, by=request.user)
        count = len(queryset)  # the rows just iterated, no second query
        message = ngettext("%(count)s token revoked.", "%(count)s tokens revoked.", count)
        self.message_user(request, message % {"count": count})
