"""Django admin: administrative units are reference data loaded by ``dancu load_admin_units``,
so the admin lists and searches them but does not add, change or delete them."""

from __future__ import annotations

from django.contrib import admin

from dancu.core.text import search_key
from dancu.geo.models import AdminUnit, UnitConversion


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ConvertsToInline(admin.TabularInline):
    model = UnitConversion
    fk_name = "legacy_unit"
    fields = ("new_unit", "is_partial", "is_default")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Chuyển đổi sang đơn vị từ 01/7/2025"

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AdminUnit)
class AdminUnitAdmin(_ReadOnlyAdmin):
    list_display = ("qualified_code", "name", "unit_type", "level", "code_system", "parent", "province",
                    "id_number_code")
    list_filter = ("code_system", "level", "unit_type")
    search_fields = ("code", "name", "search_key")
    list_select_related = ("parent", "province")
    readonly_fields = ("code_system", "level", "code", "name", "short_name", "unit_type", "search_key",
                       "parent", "province", "id_number_code")
    show_full_result_count = False
    inlines = [ConvertsToInline]

    def get_search_results(self, request, queryset, search_term):
        # "ha noi" finds "Hà Nội": also match the diacritics-free search key.
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            queryset |= self.model.objects.filter(search_key__contains=search_key(search_term))
        return queryset, may_have_duplicates

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None and obj.code_system == "legacy" else []


@admin.register(UnitConversion)
class UnitConversionAdmin(_ReadOnlyAdmin):
    list_display = ("legacy_unit", "legacy_code", "new_unit", "new_code", "is_partial", "is_default")
    list_filter = ("is_partial", "is_default")
    search_fields = ("legacy_unit__code", "legacy_unit__search_key", "new_unit__code", "new_unit__search_key")
    list_select_related = ("legacy_unit", "new_unit")
    raw_id_fields = ("legacy_unit", "new_unit")
    show_full_result_count = False

    @admin.display(description="mã cũ", ordering="legacy_unit__code")
    def legacy_code(self, obj: UnitConversion) -> str:
        return obj.legacy_unit.qualified_code

    @admin.display(description="mã mới", ordering="new_unit__code")
    def new_code(self, obj: UnitConversion) -> str:
        return obj.new_unit.qualified_code
