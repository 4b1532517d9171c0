"""The rules of the law a dossier must meet before it is accepted for processing, and who may
act for whom. Each refusal names the field at fault. Checked at submission and again when a
supplement changes the data; the registry's own services check their rules again on approval.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.core.errors import DomainError, OutOfJurisdiction
from dancu.population.models import Citizen, LifeStatus, MaritalStatus, Sex
from dancu.publicservices.models import Procedure, Relation
from dancu.publicservices.selectors import active_registration
from dancu.residence.models import AbsenceCase, HouseholdMember, ResidenceKind
from dancu.residence.services import add_years

ADULT_AGE = 18
MARRIAGE_AGE = {Sex.MALE: 20, Sex.FEMALE: 18}  # Law on Marriage and Family 2014, Art. 8
MILITARY_AGE = (18, 27)  # Law on Military Service 2015, Art. 30 (to 27 with a deferral)
TEMPORARY_MIN_DAYS = 30  # Art. 27: living 30 days or more outside the permanent commune
AUTHORISATION = "authorisation"  # the component a representative must attach


def age_on(citizen: Citizen, day: dt.date) -> int:
    month, dom = citizen.birth_month or 12, citizen.birth_day or 28
    return day.year - citizen.birth_year - ((day.month, day.day) < (month, dom))


def parse_day(data: Mapping[str, Any], name: str) -> dt.date | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise DomainError("E_DATE_INVALID", _("Ngày không hợp lệ (YYYY-MM-DD)."), name) from exc


def _living(citizen: Citizen | None, field: str) -> Citizen:
    if citizen is None:
        raise DomainError("E_CITIZEN_NOT_FOUND", _("Không tìm thấy công dân."), field)
    if citizen.life_status == LifeStatus.DECEASED:
        raise DomainError("E_CITIZEN_DECEASED", _("Công dân đã chết."), field)
    return citizen


def _not_entitled(message: Any, field: str = "subject_personal_id") -> OutOfJurisdiction:
    return OutOfJurisdiction("E_NOT_ENTITLED", message, field)


def is_kin(applicant: Citizen, subject: Citizen) -> bool:
    """Spouse, parent, child, or a member of the same household."""
    if subject.spouse_id == applicant.pk or applicant.spouse_id == subject.pk:
        return True
    if applicant.pk in (subject.father_id, subject.mother_id) or subject.pk in (
        applicant.father_id,
        applicant.mother_id,
    ):
        return True
    mine = HouseholdMember.objects.filter(citizen=applicant, left_on__isnull=True).values("household_id")
    return HouseholdMember.objects.filter(
        citizen=subject, left_on__isnull=True, household_id__in=mine
    ).exists()


def check_entitlement(
    procedure: Procedure,
    applicant: Citizen,
    subject: Citizen | None,
    relation: str,
    component_keys: set[str],
    today: dt.date | None = None,
) -> None:
    """May the applicant file this dossier about the subject? Self; a parent for a minor child;
    a household head for a member of the household; a representative with an authorisation
    document. A birth is declared by a parent (no subject yet); a death by kin or a
    representative. Otherwise ``E_NOT_ENTITLED`` (403), naming the field."""
    today = today or timezone.localdate()
    if relation not in Relation.values:
        raise DomainError("E_CHOICE_INVALID", _("Quan hệ với người được khai không hợp lệ."), "relation")
    if procedure.effect == "birth":
        if subject is not None:
            raise DomainError(
                "E_SUBJECT_NOT_ALLOWED",
                _("Khai sinh: người được khai chưa có trong cơ sở dữ liệu."),
                "subject_personal_id",
            )
        if relation == Relation.REPRESENTATIVE and AUTHORISATION not in component_keys:
            raise _not_entitled(
                _("Người được ủy quyền phải đính kèm văn bản ủy quyền."), f"components.{AUTHORISATION}"
            )
        return
    if subject is None:
        raise DomainError("E_REQUIRED", _("Trường bắt buộc."), "subject_personal_id")
    if procedure.effect == "death":
        if subject.pk == applicant.pk:
            raise _not_entitled(_("Không thể tự khai tử cho chính mình."))
        if relation == Relation.REPRESENTATIVE:
            if AUTHORISATION not in component_keys:
                raise _not_entitled(
                    _("Người được ủy quyền phải đính kèm văn bản ủy quyền."), f"components.{AUTHORISATION}"
                )
            return
        if not is_kin(applicant, subject):
            raise _not_entitled(
                _("Người khai tử phải là vợ/chồng, cha/mẹ, con hoặc người cùng hộ, hoặc người được ủy quyền.")
            )
        return
    if relation == Relation.SELF:
        if subject.pk != applicant.pk:
            raise _not_entitled(_("Hồ sơ cho người khác: hãy chọn quan hệ với người đó."))
        return
    if subject.pk == applicant.pk:
        raise DomainError("E_CHOICE_INVALID", _("Hồ sơ cho chính mình: chọn quan hệ 'bản thân'."), "relation")
    if relation == Relation.PARENT:
        if applicant.pk not in (subject.father_id, subject.mother_id):
            raise _not_entitled(_("Theo cơ sở dữ liệu, bạn không phải cha/mẹ của người này."))
        if age_on(subject, today) >= ADULT_AGE:
            raise _not_entitled(_("Người này đã thành niên; cha/mẹ chỉ khai thay cho con chưa thành niên."))
        return
    if relation == Relation.HOUSEHOLD_HEAD:
        if not HouseholdMember.objects.filter(
            citizen=subject, left_on__isnull=True, household__head=applicant
        ).exists():
            raise _not_entitled(_("Theo cơ sở dữ liệu, bạn không phải chủ hộ của người này."))
        return
    if AUTHORISATION not in component_keys:  # representative
        raise _not_entitled(
            _("Người được ủy quyền phải đính kèm văn bản ủy quyền."), f"components.{AUTHORISATION}"
        )


def _host_consent(data: Mapping[str, Any], component_keys: set[str]) -> None:
    """Living in someone else's home (staying with a host, renting, borrowing) needs the
    owner's or household head's written consent (Law on Residence Art. 20(2)(b), 27, 28)."""
    housing = data.get("housing")
    if housing == "own":
        return
    if housing == "host" and not data.get("host_personal_id"):
        raise DomainError(
            "E_REQUIRED", _("Ở nhờ nhà người khác: cần số định danh của chủ nhà."), "host_personal_id"
        )
    if "host_consent" not in component_keys:
        raise DomainError(
            "E_HOST_CONSENT_REQUIRED",
            _("Cư trú tại chỗ ở không thuộc sở hữu của mình cần văn bản đồng ý của chủ hộ/chủ sở hữu."),
            "components.host_consent",
        )


def check_law(
    procedure: Procedure,
    applicant: Citizen,
    subject: Citizen | None,
    data: Mapping[str, Any],
    component_keys: set[str],
    today: dt.date | None = None,
) -> None:
    """The rules of the procedure's law on the entered data (beyond its JSON Schema)."""
    today = today or timezone.localdate()
    effect = procedure.effect
    person = subject or applicant
    if effect in (
        "temporary_residence",
        "permanent_residence",
        "temporary_absence",
        "stay_notice",
        "temporary_residence_renewal",
        "id_card_reissue",
        "residence_confirmation",
    ):
        _living(person, "subject_personal_id")
    if effect == "temporary_residence":
        start, end = parse_day(data, "started_on"), parse_day(data, "expires_on")
        assert start is not None and end is not None  # required by the schema
        if end <= start:
            raise DomainError("E_DATE_ORDER", _("Ngày hết hạn phải sau ngày bắt đầu."), "expires_on")
        if end > add_years(start, 2):
            raise DomainError("E_TEMPORARY_TOO_LONG", _("Tạm trú có thời hạn tối đa 2 năm."), "expires_on")
        if (end - start).days < TEMPORARY_MIN_DAYS:
            raise DomainError(
                "E_TEMPORARY_TOO_SHORT",
                _("Ở dưới 30 ngày: thông báo lưu trú, không đăng ký tạm trú."),
                "expires_on",
            )
        permanent = active_registration(person, ResidenceKind.PERMANENT)
        if permanent is not None and f"2025:{permanent.commune.code}" == data.get("commune"):
            raise DomainError("E_SAME_COMMUNE", _("Tạm trú là ở ngoài xã/phường nơi thường trú."), "commune")
        _host_consent(data, component_keys)
    elif effect == "permanent_residence":
        _host_consent(data, component_keys)
        if data.get("relationship") == "head" and data.get("household_number"):
            raise DomainError("E_HOUSEHOLD_HAS_HEAD", _("Hộ đã có chủ hộ."), "relationship")
    elif effect == "temporary_residence_renewal":
        current = active_registration(person, ResidenceKind.TEMPORARY)
        if current is None:
            raise DomainError(
                "E_NO_TEMPORARY_RESIDENCE", _("Không có đăng ký tạm trú còn hiệu lực."), "subject_personal_id"
            )
        end = parse_day(data, "expires_on")
        assert end is not None
        start = max(today, current.started_on)
        if end <= start or end > add_years(start, 2):
            raise DomainError(
                "E_TEMPORARY_TOO_LONG", _("Gia hạn tạm trú tối đa 2 năm kể từ ngày gia hạn."), "expires_on"
            )
    elif effect == "temporary_absence":
        _check_absence(person, data, component_keys, today)
    elif effect == "stay_notice":
        start, end = parse_day(data, "started_on"), parse_day(data, "ends_on")
        assert start is not None and end is not None
        if end < start:
            raise DomainError("E_DATE_ORDER", _("Ngày kết thúc phải sau ngày bắt đầu."), "ends_on")
        if (end - start).days >= TEMPORARY_MIN_DAYS:
            raise DomainError(
                "E_STAY_TOO_LONG", _("Lưu trú từ 30 ngày trở lên phải đăng ký tạm trú."), "ends_on"
            )
    elif effect == "birth":
        born = parse_day(data, "child_birth_date")
        assert born is not None
        if born > today or born.year < today.year - 120:
            raise DomainError("E_DATE_INVALID", _("Ngày sinh không hợp lệ."), "child_birth_date")
        _living(applicant, "applicant_personal_id")
        if applicant.current_commune_id is None:
            raise DomainError(
                "E_NO_RESIDENCE", _("Cha/mẹ chưa có nơi cư trú để đăng ký cho con."), "applicant_personal_id"
            )
        other = data.get("other_parent_personal_id")
        if other:
            if other == applicant.personal_id:
                raise DomainError(
                    "E_FAMILY_SELF", _("Không thể liên kết với chính mình."), "other_parent_personal_id"
                )
            if not Citizen.objects.filter(personal_id=other).exists():
                raise DomainError(
                    "E_CITIZEN_NOT_FOUND", _("Không tìm thấy công dân."), "other_parent_personal_id"
                )
    elif effect == "death":
        assert subject is not None
        _living(subject, "subject_personal_id")
        died = parse_day(data, "death_date")
        assert died is not None
        if died > today or died.year < subject.birth_year:
            raise DomainError("E_DATE_INVALID", _("Ngày chết không hợp lệ."), "death_date")
    elif effect == "marriage":
        _check_marriage(applicant, data, today)


def _check_absence(
    person: Citizen, data: Mapping[str, Any], component_keys: set[str], today: dt.date
) -> None:
    """Law on Residence Art. 31(1): the four cases of who must declare a temporary absence."""
    case = data.get("case")
    start, end = parse_day(data, "started_on"), parse_day(data, "expires_on")
    assert start is not None
    if end is not None and end <= start:
        raise DomainError("E_DATE_ORDER", _("Ngày kết thúc phải sau ngày bắt đầu."), "expires_on")
    if active_registration(person, ResidenceKind.PERMANENT) is None:
        raise DomainError(
            "E_NO_PERMANENT_RESIDENCE",
            _("Khai báo tạm vắng tại nơi thường trú; người này chưa có nơi thường trú."),
            "subject_personal_id",
        )
    if case in (AbsenceCase.SUPERVISED, AbsenceCase.ADMIN_MEASURE):
        if "permission" not in component_keys:  # (a), (b): leaving the commune for 1 day or more
            raise DomainError(
                "E_PERMISSION_REQUIRED",
                _("Cần văn bản đồng ý của cơ quan có thẩm quyền."),
                "components.permission",
            )
    elif case == AbsenceCase.MILITARY_AGE:  # (c): leaving for 3 months or more
        low, high = MILITARY_AGE
        if not low <= age_on(person, start) <= high:
            raise DomainError("E_ABSENCE_CASE", _("Người này không trong độ tuổi nghĩa vụ quân sự."), "case")
        if end is None or end < start + dt.timedelta(days=90):
            raise DomainError(
                "E_ABSENCE_TOO_SHORT",
                _("Trường hợp này khai báo khi vắng mặt từ 3 tháng trở lên."),
                "expires_on",
            )
    elif case == AbsenceCase.LONG_ABSENCE:  # (d): away 12 months or more
        if end is not None and end < add_years(start, 1):
            raise DomainError(
                "E_ABSENCE_TOO_SHORT",
                _("Trường hợp này khai báo khi vắng mặt từ 12 tháng trở lên."),
                "expires_on",
            )
    else:
        raise DomainError("E_CHOICE_INVALID", _("Trường hợp khai báo tạm vắng không hợp lệ."), "case")


def _check_marriage(applicant: Citizen, data: Mapping[str, Any], today: dt.date) -> None:
    _living(applicant, "applicant_personal_id")
    spouse = Citizen.objects.filter(personal_id=data.get("spouse_personal_id")).first()
    _living(spouse, "spouse_personal_id")
    assert spouse is not None
    if spouse.pk == applicant.pk:
        raise DomainError("E_FAMILY_SELF", _("Không thể kết hôn với chính mình."), "spouse_personal_id")
    if spouse.sex == applicant.sex:  # Law on Marriage and Family 2014, Art. 8(2)
        raise DomainError(
            "E_MARRIAGE_SAME_SEX",
            _("Pháp luật hiện hành không đăng ký kết hôn giữa người cùng giới tính."),
            "spouse_personal_id",
        )
    for person, field in ((applicant, "applicant_personal_id"), (spouse, "spouse_personal_id")):
        if person.marital_status == MaritalStatus.MARRIED or person.spouse_id is not None:
            raise DomainError("E_ALREADY_MARRIED", _("Người này đang có vợ/chồng."), field)
        if age_on(person, today) < MARRIAGE_AGE[person.sex]:
            raise DomainError("E_MARRIAGE_AGE", _("Chưa đủ tuổi kết hôn (nam 20, nữ 18)."), field)
    if applicant.pk in (spouse.father_id, spouse.mother_id) or spouse.pk in (
        applicant.father_id,
        applicant.mother_id,
    ):
        raise DomainError("E_MARRIAGE_FORBIDDEN", _("Cấm kết hôn giữa cha/mẹ và con."), "spouse_personal_id")
