"""The plans' indicators: their names as the plans write them, and their targets. Pure data.

One place for what a report calls each indicator and what it aims at (issue 20): the
report builder (``bot.admin.report``) titles its tables and columns from here, the web
page and every export (JSON, CSV, XLSX) show the same names and targets. A target is a
share in percent (``None``: the plans set none). ``source`` says which plan sets it.

The plans read: Nghị quyết 28/NQ-CP (Chiến lược quốc gia về bình đẳng giới 2021–2030),
the Đắk Lắk plan 2026–2030, the province's 2025 plan, xã Liên Minh's plan, the Hà Nội
women's union's and Đắk Nông's 2021 plan; their texts are not in this repository, so the
names and targets below are to be checked against them (``source`` says where each
target comes from). Correct a name or a target here only.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CONTEXT_LABELS_VI",
    "GROUPS",
    "INDICATORS",
    "Indicator",
    "OFFICIAL_LABEL_VI",
    "PRIORITY_GROUPS",
    "PUBLIC_LABEL_VI",
    "SHELTER_KIND_LABELS_VI",
    "COMMUNITY_SHELTER_KINDS",
    "indicator",
]


@dataclass(frozen=True)
class Indicator:
    code: str
    name_vi: str  # as the plans name it
    target: float | None = None  # percent; None: no target in the plans
    source: str | None = None  # the plan that sets the target, in Vietnamese: it is printed

    @property
    def title_vi(self) -> str:
        """The name with its target, as a table's title."""
        if self.target is None:
            return self.name_vi
        return f"{self.name_vi} (mục tiêu {self.target:g}%)"


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "needs_met",
        "Tỷ lệ nạn nhân bị bạo lực trên cơ sở giới được phát hiện được tiếp cận ít nhất "
        "một trong các dịch vụ hỗ trợ cơ bản",
        90.0,
        "Nghị quyết 28/NQ-CP, Chiến lược quốc gia về bình đẳng giới 2021–2030 (80% năm "
        "2025, 90% năm 2030)",
    ),
    Indicator(
        "acknowledged_within_sla",
        "Tỷ lệ tin báo được đầu mối tiếp nhận, xác nhận trong thời hạn quy định",
    ),
    Indicator(
        "communes_online",
        "Số xã, phường tiếp nhận tin báo, tố giác về bạo lực qua kênh trực tuyến",
        100.0,
        "kế hoạch của tỉnh: mọi xã, phường (chưa đối chiếu với văn bản)",
    ),
    Indicator(
        "communes_with_safe_place",
        "Số xã, phường có nhà tạm lánh hoặc địa chỉ tin cậy tại cộng đồng",
        100.0,
        "kế hoạch của tỉnh: mọi xã, phường (chưa đối chiếu với văn bản)",
    ),
    Indicator("shelter_occupancy", "Công suất sử dụng nhà tạm lánh, địa chỉ tin cậy"),
    Indicator(
        "priority_groups",
        "Phụ nữ dân tộc thiểu số, phụ nữ di cư và người khuyết tật bị bạo lực được hỗ trợ",
    ),
    Indicator(
        "training",
        "Tỷ lệ cán bộ làm công tác phòng, chống bạo lực gia đình, bạo lực trên cơ sở giới "
        "được tập huấn, bồi dưỡng kiến thức, kỹ năng",
        80.0,
        "kế hoạch của tỉnh: “80% cán bộ … được tập huấn” (chưa đối chiếu với văn bản)",
    ),
    Indicator(
        "communication",
        "Số hoạt động truyền thông, số lượt người được tiếp cận thông tin về phòng, chống "
        "bạo lực gia đình, bạo lực trên cơ sở giới",
    ),
    Indicator("ethnic_group", "Số tin báo theo thành phần dân tộc"),
    Indicator("migrant", "Số tin báo của người di cư"),
    Indicator(
        "contexts",
        "Số tin báo theo bối cảnh: mua bán người, tảo hôn và cưỡng ép kết hôn (kể cả hôn "
        "nhân cận huyết), bạo lực trên mạng, tại nơi làm việc, trong trường học",
    ),
)
_BY_CODE = {i.code: i for i in INDICATORS}


def indicator(code: str) -> Indicator:
    return _BY_CODE[code]


# The contexts beside the GBVIMS types (dialogs.report.COUNTED_CONTEXTS), as columns.
CONTEXT_LABELS_VI: dict[str, str] = {
    "trafficking": "Mua bán người",
    "child_or_forced_marriage": "Tảo hôn, cưỡng ép kết hôn, hôn nhân cận huyết",
    "online": "Bạo lực trên không gian mạng",
    "workplace": "Bạo lực, quấy rối tại nơi làm việc",
    "school": "Bạo lực học đường",
}

# Priority groups of the plans: (code, Vietnamese name). A report is in a group by its
# coded attributes: an ethnic group other than Kinh (GSO code "01"), the migrant flag,
# a disability (storage.stats counts them).
PRIORITY_GROUPS: tuple[tuple[str, str], ...] = (
    ("ethnic_minority", "Người dân tộc thiểu số"),
    ("migrant", "Người di cư"),
    ("disability", "Người khuyết tật"),
)

# Shelter kinds (routing.directory.ShelterKind values); the first two are the plans'
# community places ("nhà tạm lánh, địa chỉ tin cậy tại cộng đồng").
SHELTER_KIND_LABELS_VI: dict[str, str] = {
    "community_shelter": "Nhà tạm lánh tại cộng đồng",
    "trusted_address": "Địa chỉ tin cậy",
    "social_protection_centre": "Cơ sở trợ giúp xã hội",
    "one_stop_health_service": "Cơ sở y tế (dịch vụ một cửa)",
}
COMMUNITY_SHELTER_KINDS = ("community_shelter", "trusted_address")

# Indicator groups: one XLSX sheet each, in this order (table ids by prefix).
GROUPS: tuple[tuple[str, str], ...] = (
    ("reports", "Số tin báo"),
    ("attributes", "Đặc điểm người bị bạo lực"),
    ("priority", "Nhóm ưu tiên"),
    ("services", "Dịch vụ hỗ trợ"),
    ("response", "Tiếp nhận và xử lý"),
    ("coverage", "Mạng lưới xã, nơi tạm lánh"),
    ("capacity", "Tập huấn, truyền thông"),
)

PUBLIC_LABEL_VI = "Báo cáo công khai — số liệu nhỏ được che (<5, x)"
OFFICIAL_LABEL_VI = "Báo cáo chính thức — số liệu chính xác, không công bố"
